"""A bounded schemathesis run over every operation of openapi.json (the kernel's and every
installed plugin's), as a platform administrator and as a committee cadre: no answer is a 5xx,
and every 2xx answer has a status its operation declares and matches the JSON Schema declared
for it (so the document clients are generated from cannot drift from what the server sends).

schemathesis generates the cases from the document (path and query parameters, request bodies);
they are sent through the in-process test client of the app under test. A little data is seeded
first (residents, a published form, a campaign with its tasks) so that small ids reach real
rows. Each operation gets ``SHEQUYUN_FUZZ_EXAMPLES`` cases per actor (default 4), so the run
stays within minutes; raise it to search harder. Skip it locally with ``-m "not fuzz"``.
A failure names the operation, the actor and the request as a curl command.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from shequyun_sdk import hookimpl
from shequyun_sdk.openapi import INTEGER, describe, obj, query_param
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("SHEQUYUN_FUZZ_EXAMPLES", "4"))
CITY, COMMITTEE = "310000000000", "310115004001"

#: Operations run last: they switch plugins off, which would leave the rest answering 404.
LAST = ("/api/v1/plugin-enablement/",)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


@pytest.fixture
def shequyun_discover():
    return True


def id_number(serial: int) -> str:
    first = f"31011519700312{serial:03d}"
    total = sum(int(d) * w for d, w in zip(first, _WEIGHTS, strict=True))
    return first + "10X98765432"[total % 11]


@pytest.fixture
def seeded(shequyun_client, shequyun_actors):
    """Plugins switched on for the city; three residents; a form with a campaign, answered by
    one committee."""
    admin = shequyun_actors.platform_admin().client()
    for plugin in admin.get("/api/v1/plugins").json()["plugins"]:
        if not plugin["available"] and not plugin["builtin"]:
            admin.put(
                f"/api/v1/plugin-enablement/{plugin['name']}",
                json={"unit_code": CITY, "enabled": True},
            )
    for serial, name in enumerate(["王秀英", "李建国", "张伟"], start=1):
        created = admin.post(
            "/api/v1/residents",
            json={
                "name": name,
                "id_number": id_number(serial),
                "registration": "huji",
                "unit_code": COMMITTEE,
            },
        )
        assert created.status_code == 201, created.text
    form = admin.post(
        "/api/v1/forms",
        json={
            "title": "加装电梯意愿",
            "schema": {"type": "object", "properties": {"agree": {"type": "boolean"}}},
            "ui": {"order": ["agree"], "fields": {"agree": {"label": "是否同意"}}},
        },
    )
    assert form.status_code == 201, form.text
    form_id = form.json()["id"]
    assert admin.post(f"/api/v1/forms/{form_id}/versions/1/publish").status_code == 200
    deadline = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    campaign = admin.post(
        "/api/v1/campaigns",
        json={
            "form_id": form_id,
            "version": 1,
            "title": "加装电梯意愿摸底",
            "deadline": deadline,
            "targets": [COMMITTEE],
        },
    )
    assert campaign.status_code == 201, campaign.text
    # One committee has answered, so the answers' listings and results hold something to check.
    cadre = shequyun_actors.cadre(COMMITTEE).client()
    (task,) = cadre.get("/api/v1/tasks").json()["items"]
    submitted = cadre.post(
        f"/api/v1/tasks/{task['id']}/submit",
        json={"client_key": "fuzz-0001", "data": {"agree": True}},
    )
    assert submitted.status_code == 201, submitted.text
    return admin


def httpx_kwargs(case, headers):
    """The request of ``case`` for the test client (schemathesis prepares it for requests)."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    kwargs.pop("cookies", None)
    data, files = kwargs.pop("data", None), kwargs.pop("files", None)
    if isinstance(data, bytes | str):
        kwargs["content"] = data
    elif data is not None:
        kwargs["data"] = data
    if files:
        fields: dict[str, list[str]] = {}
        uploads = []
        for name, (filename, value, *rest) in files:
            if filename is None:
                fields.setdefault(name, []).append(str(value))
            else:
                uploads.append((name, (filename, value, *rest)))
        kwargs["data"] = fields
        kwargs["files"] = uploads or None
        kwargs["headers"] = {
            k: v for k, v in kwargs["headers"].items() if k.lower() != "content-type"
        }
    return kwargs


def operations(schema):
    found = [result.ok() for result in schema.get_all_operations()]
    return sorted(found, key=lambda op: op.path.startswith(LAST))


def _escape(part):
    return str(part).replace("~", "~0").replace("/", "~1")


def answer_schema(document, path, method, status):
    """A ``$ref`` to the JSON Schema openapi.json declares for ``status`` answered to
    ``method path`` (inside the document, so its own ``$ref`` resolve), or None."""
    responses = document["paths"][path][method.lower()]["responses"]
    pointer = ["paths", path, method.lower(), "responses", str(status)]
    declared = responses.get(str(status))
    if declared is None:
        return None
    if "$ref" in declared:
        name = declared["$ref"].rsplit("/", 1)[1]
        pointer, declared = (
            ["components", "responses", name],
            document["components"]["responses"][name],
        )
    if "schema" not in declared.get("content", {}).get("application/json", {}):
        return None
    pointer += ["content", "application/json", "schema"]
    return {"$ref": "urn:shequyun:openapi#/" + "/".join(map(_escape, pointer))}


def nonconforming(document, operation, response):
    """Why ``response`` (a 2xx other than 204) breaks what its operation declares, or None."""
    status, path, method = response.status_code, operation.path, operation.method
    if status == 204 or status // 100 != 2:
        return None
    if str(status) not in document["paths"][path][method.lower()]["responses"]:
        return f"answered {status}, which the operation does not declare"
    schema = answer_schema(document, path, method, status)
    if schema is None or not response.headers.get("content-type", "").startswith(
        "application/json"
    ):
        return None
    error = best_match(_validator(document, schema).iter_errors(response.json()))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "(the answer)"
    return f"answer at {where}: {error.message[:300]}"


def _validator(document, schema):
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:shequyun:openapi", resource)
    return Draft202012Validator(schema, registry=registry)


def fuzz(operation, client, headers, label, failures, statuses, examples=EXAMPLES, document=None):
    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        response = client.request(**httpx_kwargs(case, headers))
        statuses[response.status_code // 100] += 1
        if response.status_code >= 500:
            failures.append(
                f"{operation.label} as {label}: {response.status_code} {response.text[:200]}\n"
                f"  {case.as_curl_command(headers=headers)}"
            )
        elif document is not None and (why := nonconforming(document, operation, response)):
            failures.append(
                f"{operation.label} as {label}: {response.status_code} breaks its schema, {why}\n"
                f"  {case.as_curl_command(headers=headers)}"
            )

    run()


def test_no_operation_answers_a_server_error(shequyun_app, shequyun_actors, seeded):
    document = seeded.get("/api/v1/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    client = TestClient(shequyun_app, raise_server_exceptions=False)
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    ran = 0
    for operation in operations(schema):
        # Fresh users for every operation: a case may revoke the token or deactivate the user
        # it runs as (DELETE /tokens/1), which must not blind the operations after it.
        for label, actor in (
            ("platform_admin", shequyun_actors.platform_admin()),
            ("cadre", shequyun_actors.cadre(COMMITTEE)),
        ):
            fuzz(operation, client, actor.auth, label, failures, statuses, document=document)
            ran += 1
    assert ran > 300  # every operation, both actors
    assert failures == [], "\n".join(failures)
    # The cases reached the handlers: many were answered, not all refused at the door.
    assert statuses[2] > 100, statuses


def test_the_seeded_answers_match_their_schemas(shequyun_actors, seeded):
    """The answers that carry the most structure, read where the seed put content: the fuzz
    run's cases reach them only when they happen to name the seeded ids."""
    document = seeded.get("/api/v1/openapi.json").json()
    cadre = shequyun_actors.cadre(COMMITTEE).client()
    campaign = seeded.get("/api/v1/campaigns").json()["items"][0]["id"]
    (task,) = cadre.get("/api/v1/tasks", params={"status": "submitted"}).json()["items"]
    reads = [
        (cadre, "/api/v1/tasks", "/api/v1/tasks"),
        (cadre, f"/api/v1/tasks/{task['id']}", "/api/v1/tasks/{task_id}"),
        (seeded, f"/api/v1/campaigns/{campaign}", "/api/v1/campaigns/{campaign_id}"),
        (
            seeded,
            f"/api/v1/campaigns/{campaign}/results",
            "/api/v1/campaigns/{campaign_id}/results",
        ),
        (
            seeded,
            f"/api/v1/campaigns/{campaign}/submissions",
            "/api/v1/campaigns/{campaign_id}/submissions",
        ),
        (
            seeded,
            f"/api/v1/campaigns/{campaign}/progress",
            "/api/v1/campaigns/{campaign_id}/progress",
        ),
        (seeded, "/api/v1/residents", "/api/v1/residents"),
    ]
    for client, url, path in reads:
        response = client.get(url)
        assert response.status_code == 200, (url, response.text)
        operation = SimpleNamespace(path=path, method="GET")
        assert nonconforming(document, operation, response) is None, url
    results = seeded.get(f"/api/v1/campaigns/{campaign}/results").json()
    assert results["total"]["submissions"] == 1  # the check saw a real aggregate


class Broken:
    """A plugin whose one operation fails on odd input, as a bug would."""

    MANIFEST = {
        "name": "broken",
        "version": "0.1.0",
        "title": {"zh": "故障"},
        "description": {"zh": "测试插件"},
        "sdk": ">=0.1,<2",
    }

    @hookimpl
    def register_api_routes(self, plugin):
        @describe(query=[query_param("n", INTEGER, required=True)], response=obj({"n": INTEGER}))
        async def echo(request):
            n = int(request.query_params.get("n") or 0)
            return JSONResponse({"n": [n][n % 2]})  # IndexError for odd numbers

        return [Route("/echo", echo, methods=["GET"])]


@pytest.mark.parametrize("shequyun_plugins", [[Broken()]], ids=["broken"])
def test_the_run_reports_a_server_error(shequyun_app, shequyun_actors):
    client = TestClient(shequyun_app, raise_server_exceptions=False)
    admin = shequyun_actors.platform_admin()
    document = client.get("/api/v1/openapi.json", headers=admin.auth).json()
    operation = schemathesis.openapi.from_dict(document)["/api/v1/plugins/broken/echo"]["GET"]
    failures: list[str] = []
    fuzz(operation, client, admin.auth, "platform_admin", failures, Counter(), examples=50)
    assert failures and "500" in failures[0] and "curl" in failures[0]


class Liar:
    """A plugin whose answer is not what its operation declares, as a drifted schema would be."""

    MANIFEST = {**Broken.MANIFEST, "name": "liar", "title": {"zh": "说谎"}}

    @hookimpl
    def register_api_routes(self, plugin):
        @describe(
            query=[query_param("n", INTEGER, required=True)],
            response=obj({"items": {"type": "array", "items": obj({"n": INTEGER})}}),
        )
        async def echo(request):
            return JSONResponse({"items": [{"n": str(request.query_params.get("n"))}]})

        return [Route("/echo", echo, methods=["GET"])]


@pytest.mark.parametrize("shequyun_plugins", [[Liar()]], ids=["liar"])
def test_the_run_reports_an_answer_that_breaks_its_schema(shequyun_app, shequyun_actors):
    client = TestClient(shequyun_app, raise_server_exceptions=False)
    admin = shequyun_actors.platform_admin()
    document = client.get("/api/v1/openapi.json", headers=admin.auth).json()
    operation = schemathesis.openapi.from_dict(document)["/api/v1/plugins/liar/echo"]["GET"]
    failures: list[str] = []
    fuzz(operation, client, admin.auth, "platform_admin", failures, Counter(), document=document)
    assert failures and "breaks its schema" in failures[0] and "items/0/n" in failures[0]
