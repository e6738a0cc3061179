"""社区治理 at scale: a district's case list, its 民情 aggregation, knowledge-base search.

Three subjects, each against the bare SQL that answers the same question, measured in the same
run on the same database:

``governance-list``
    徐汇区's district administrator lists its open cases (first page of 50 by deadline, and the
    total) through ``caselist.list_cases`` — the service the API and the pages call: the
    kernel's scope filter, the case's parties, the ORM — against one hand-written ``SELECT`` and
    ``count(*)`` with the same conditions, compiled once and run on a bare connection.
    1,000,000 cases (``--quick``: 20,000), half of them handled in 徐汇区's committees.
``governance-stats``
    The per-unit 民情 table (cases, open, on time, late for each of 徐汇区's streets) through
    ``stats.unit_outcomes`` against one hand-written ``GROUP BY unit_id, status, late, overdue``
    over the same rows (the roll-up to streets is part of the subject's work). The whole
    dashboard (``stats.figures``: four queries) is reported as a note.
``governance-search``
    p95 of a knowledge-base search (``knowledge.search_articles``: jieba segmentation of the
    query, the database's full-text match with ranking, visibility, snippets) at 20,000
    articles (``--quick``: 2,000) against the bare full-text query (FTS5 ``MATCH`` with
    ``bm25`` on SQLite, ``@@`` with ``ts_rank_cd`` on PostgreSQL) for the same words, any word
    when every word finds nothing (as the service does). The goal is an absolute one too: p95
    under 50 ms.

Every result notes the CPU time too (this process's, and a local PostgreSQL's backends'):
on a busy machine the wall clock is mostly waiting for a core.

The tree is bench_scope's (16 districts, 215 streets, 6,077 committees; ``--quick``: 1 committee
per street). SQLite always (unless ``--no-sqlite``); PostgreSQL too with ``--postgres`` or
``SHEQUYUN_BENCH_DATABASE_URL``. ``--cases`` and ``--articles`` make a smaller run to iterate on.
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import Figure, Result, median, reproduce, spread
from _pgcpu import ServerClock, timed
from bench_scope import COMMITTEES, _build_tree, _database_name, _server, _temporary_postgres
from sqlalchemy import func, select, text

DATABASE_VARIABLE = "SHEQUYUN_BENCH_DATABASE_URL"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DISTRICT = "310104000000"  # 徐汇区


@dataclass(frozen=True)
class Plan:
    committees: int
    cases: int
    articles: int
    rounds: int
    repeats: int
    searches: int


FULL = Plan(
    committees=COMMITTEES, cases=1_000_000, articles=20_000, rounds=5, repeats=3, searches=200
)
QUICK = Plan(committees=215, cases=20_000, articles=2_000, rounds=3, repeats=2, searches=40)

WORDS = [
    "加装电梯",
    "电梯加装",
    "垃圾分类",
    "湿垃圾",
    "干垃圾",
    "可回收物",
    "独居老人",
    "助餐服务",
    "长护险",
    "低保",
    "特困供养",
    "残疾人",
    "退役军人",
    "优抚",
    "停车",
    "消防通道",
    "群租",
    "违法搭建",
    "楼道堆物",
    "电动车充电",
    "人民调解",
    "邻里纠纷",
    "物业管理",
    "业委会",
    "维修资金",
    "老旧小区",
    "综合改造",
    "房屋修缮",
    "漏水",
    "社区事务受理",
    "居住证",
    "就业援助",
    "医疗救助",
    "临时救助",
    "养老顾问",
    "家庭医生",
    "疫苗接种",
    "志愿服务",
    "党群服务",
    "议事会",
    "居务公开",
    "防汛防台",
    "燃气安全",
    "高空抛物",
    "噪音扰民",
    "宠物管理",
]
FILLER = ["根据有关规定", "居委会应当及时受理居民的申请", "街道负责审核", "区相关部门予以指导。"]
QUERIES = (
    "加装电梯",
    "垃圾分类 投放",
    "独居老人 助餐",
    "违法搭建",
    "停车 消防通道",
    "漏水 维修资金",
)


def run(
    *,
    quick: bool = False,
    postgres_url: str | None = None,
    cases: int | None = None,
    articles: int | None = None,
    sqlite: bool = True,
) -> list[Result]:
    plan = QUICK if quick else FULL
    postgres_url = postgres_url or os.environ.get(DATABASE_VARIABLE) or None
    command = reproduce("governance", quick=quick)
    if cases is not None or articles is not None or not sqlite:
        plan = replace(
            plan,
            cases=plan.cases if cases is None else cases,
            articles=plan.articles if articles is None else articles,
        )
        command = shlex.join(
            [
                command.split()[0],
                "bench/bench_governance.py",
                *(["--quick"] if quick else []),
                *(["--cases", str(cases)] if cases is not None else []),
                *(["--articles", str(articles)] if articles is not None else []),
                *([] if sqlite else ["--no-sqlite"]),
            ]
        )
    results: list[Result] = []
    if sqlite:
        with tempfile.TemporaryDirectory(prefix="shequyun-bench-governance-") as tmp:
            results += _measure(f"sqlite:///{Path(tmp) / 'bench.db'}", plan, "", command)
    if postgres_url:
        with _temporary_postgres(postgres_url) as url:
            pg_command = f"{DATABASE_VARIABLE}={shlex.quote(_server(postgres_url))} {command}"
            results += _measure(url, plan, "-pg", pg_command)
    return results


def _measure(url: str, plan: Plan, suffix: str, command: str) -> list[Result]:
    import shequyun_governance

    from shequyun.kernel import Kernel
    from shequyun.settings import load_settings

    settings = load_settings(environ={}, database_url=url, inline_worker=False)
    kernel = Kernel(settings, plugins=[shequyun_governance], discover=False)
    try:
        kernel.upgrade_database()
        began = time.perf_counter()
        tree = _build_tree(kernel, plan.committees)
        actor = _district_admin(kernel)
        filled = _fill_cases(kernel, plan.cases)
        indexed = _fill_articles(kernel, plan.articles)
        prepared = time.perf_counter() - began
        with kernel.engine.connect() as connection:
            database = _database_name(connection)
        facts = f"{database}; tree {tree}; {filled}; {indexed}; prepared in {prepared:.0f} s"
        clock = ServerClock.open(kernel.engine)
        try:
            results = [
                *_list(kernel, actor, plan, suffix, command, facts, clock),
                *_stats(kernel, actor, plan, suffix, command, facts, clock),
                _search(kernel, actor, plan, suffix, command, facts, clock),
            ]
        finally:
            if clock:
                clock.close()
    finally:
        kernel.close()
    return results


# -- the data -------------------------------------------------------------------------------


def _district_admin(kernel: Any) -> Any:
    from sqlmodel import Session

    from shequyun.identity.directory import create_user, grant_role
    from shequyun.identity.models import OrgUnit

    with Session(kernel.engine, expire_on_commit=False) as session:
        unit = session.scalars(select(OrgUnit).where(OrgUnit.code == DISTRICT)).one()  # type: ignore[arg-type]
        user = create_user(session, username="bench.xuhui", display_name="徐汇区", home_unit=unit)
        grant = grant_role(
            session, kernel.permissions, user=user, role="identity.district_admin", unit=unit
        )
        session.commit()
        return kernel.authenticator.actor_for(user, grant, unit, "bench")


def _committees(kernel: Any) -> tuple[list[tuple[int, str, str]], list[tuple[int, str, str]]]:
    """``(id, name, path)`` of 徐汇区's committees and of all the others."""
    from sqlmodel import Session, col

    from shequyun.identity.models import OrgUnit

    with Session(kernel.engine) as session:
        district = session.scalars(
            select(OrgUnit.path).where(OrgUnit.code == DISTRICT)  # type: ignore[arg-type]
        ).one()
        rows = session.execute(
            select(OrgUnit.id, OrgUnit.name, OrgUnit.path)
            .where(OrgUnit.level == "committee")  # type: ignore[arg-type]
            .order_by(col(OrgUnit.id))
        ).all()
    inside = [tuple(r) for r in rows if r[2].startswith(district)]
    outside = [tuple(r) for r in rows if not r[2].startswith(district)]
    return inside, outside  # type: ignore[return-value]


def _fill_cases(kernel: Any, count: int) -> str:
    """``count`` cases (seeded): half in 徐汇区, a fifth still open, a tenth of those overdue."""
    from shequyun_governance.models import Case, CaseParty

    inside, outside = _committees(kernel)
    chooser = random.Random(15)
    today = date.today()
    statuses = ["pending", "handling", "reported"] + ["closed"] * 12
    case_table, party_table = Case.__table__, CaseParty.__table__  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    with kernel.engine.connect() as connection:
        for start in range(0, count, 20_000):
            cases, parties = [], []
            for n in range(start, min(start + 20_000, count)):
                unit_id, name, path = chooser.choice(inside if n % 2 == 0 else outside)
                street = int(path.strip("/").split("/")[-2])
                created = today - timedelta(days=chooser.randint(0, 360))
                due = created + timedelta(days=chooser.choice((3, 7, 10, 21)))
                status = chooser.choice(statuses)
                closed = (
                    due + timedelta(days=chooser.randint(-5, 2)) if status == "closed" else None
                )
                cases.append(
                    {
                        "id": n + 1,
                        "number": f"ZLB{n:09d}",
                        "title": f"案件 {n}",
                        "description": "居民反映的问题",
                        "category_id": chooser.randint(1, 9) + 8,
                        "category_name": chooser.choice(("环境卫生", "设施维修", "停车管理")),
                        "priority": "normal",
                        "source": chooser.choice(("dispatch", "city", "self")),
                        "source_ref": None,
                        "status": status,
                        "origin_unit_id": street,
                        "dispatcher_unit_id": street,
                        "unit_id": unit_id,
                        "unit_name": name,
                        "chain": [[street, unit_id]],
                        "subject_key": None,
                        "subject_label": "",
                        "resident_id": None,
                        "household_id": None,
                        "place": f"小区{n % 400}号楼" if n % 3 == 0 else None,
                        "address": "",
                        "latitude": None,
                        "longitude": None,
                        "created_on": created,
                        "accept_due": created + timedelta(days=1),
                        "due_on": due,
                        "accepted_at": now,
                        "reported_at": None,
                        "closed_at": now if closed else None,
                        "closed_on": closed,
                        "supervised": 0,
                        "extension_days": None,
                        "extension_reason": "",
                        "satisfaction": None,
                        "log_id": None,
                        "created_by": "bench",
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                    }
                )
                if n % 100 == 0:  # a case escalated or rejected: its committee stays a party
                    parties.append({"case_id": n + 1, "unit_id": unit_id})
            connection.execute(case_table.insert(), cases)
            connection.execute(party_table.insert(), parties)
        connection.commit()
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    return f"{count:,} cases ({count // 2:,} in 徐汇区's {len(inside):,} committees)"


def _fill_articles(kernel: Any, count: int) -> str:
    """``count`` articles of 2–4 sentences from a policy vocabulary, indexed as the plugin
    indexes them (jieba; ``search.index_articles``), published at the city, 徐汇区 or elsewhere."""
    from shequyun_governance import search
    from shequyun_governance.models import Article
    from sqlmodel import Session

    chooser = random.Random(16)
    _, outside = _committees(kernel)
    table = Article.__table__  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    with Session(kernel.engine) as session:
        city = session.execute(text("SELECT id FROM kernel_org_unit WHERE level = 'city'")).scalar()
        district = session.execute(
            text("SELECT id FROM kernel_org_unit WHERE code = :c"), {"c": DISTRICT}
        ).scalar()
        step = max(1, len(outside) // 50)
        others = [int(p.strip("/").split("/")[1]) for _, _, p in outside[::step]]
        began = time.perf_counter()
        for start in range(0, count, 2000):
            rows = []
            for n in range(start, min(start + 2000, count)):
                topic = chooser.sample(WORDS, 4)
                body = "。".join(
                    f"关于{topic[i % 4]}的{chooser.choice(('办理流程', '政策解读', '常见问题'))}，"
                    + "，".join(chooser.sample(FILLER, 3))
                    + f"，涉及{chooser.choice(WORDS)}和{chooser.choice(WORDS)}"
                    for i in range(chooser.randint(2, 4))
                )
                title = f"{topic[0]}{chooser.choice(('办事指南', '政策问答', '工作规程'))}（{n}）"
                rows.append(
                    {
                        "id": n + 1,
                        "unit_id": chooser.choice([city, city, district, *others[:6]]),
                        "unit_name": "发布单位",
                        "unit_level": "district",
                        "kind": "policy",
                        "title": title,
                        "body": body,
                        "categories": [],
                        "attachments": [],
                        "version": 1,
                        "withdrawn": False,
                        "author": "bench",
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            session.execute(table.insert(), rows)
            search.index_articles(
                session, [(r["id"], r["unit_id"], r["title"], r["body"]) for r in rows]
            )
            session.commit()
        took = time.perf_counter() - began
        session.execute(text("ANALYZE"))
        session.commit()
    return f"{count:,} articles (segmented and indexed in {took:.0f} s)"


# -- timing ---------------------------------------------------------------------------------


@dataclass
class Timings:
    """Wall-clock and CPU milliseconds of the subject's and the baseline's runs, in turn."""

    ours: list[float]
    theirs: list[float]
    ours_cpu: list[float]
    theirs_cpu: list[float]

    def cpu_note(self, clock: ServerClock | None, *, statistic: str = "median") -> str:
        pick = _p95 if statistic == "p95" else median
        ours, theirs = pick(self.ours_cpu), pick(self.theirs_cpu)
        return (
            f"CPU time ({_whose(clock)}) {statistic} {ours:.1f} ms vs {theirs:.1f} ms = "
            f"{ours / theirs:.2f}x"
        )


def _whose(clock: ServerClock | None) -> str:
    if clock:
        return "this process + the PostgreSQL backends"
    return "this process: SQLite works in it; a remote server's work is not counted"


def _alternate(
    subject: Callable[[], Any],
    baseline: Callable[[], Any],
    rounds: int,
    repeats: int,
    clock: ServerClock | None,
) -> Timings:
    """Run the two in turn ``rounds`` times, ``repeats`` calls each time, after one call each
    to warm caches, the jieba dictionary and statement compilation."""
    subject(), baseline()
    found = Timings([], [], [], [])
    for _ in range(rounds):
        wall, cpu = timed(subject, repeats, clock)
        found.ours.append(wall)
        found.ours_cpu.append(cpu)
        wall, cpu = timed(baseline, repeats, clock)
        found.theirs.append(wall)
        found.theirs_cpu.append(cpu)
    return found


def _figure(label: str, values: list[float]) -> Figure:
    return Figure(label, median(values), "ms", spread(values, " ms"))


# -- the three questions --------------------------------------------------------------------


def _list(
    kernel: Any,
    actor: Any,
    plan: Plan,
    suffix: str,
    command: str,
    facts: str,
    clock: ServerClock | None,
) -> list[Result]:
    from shequyun_governance import caselist
    from shequyun_governance.cases import OPEN, visible
    from shequyun_governance.models import Case

    platform = kernel.platform
    filters = caselist.CaseFilters(status="open")

    def subject() -> tuple[int, int]:
        with platform.session() as session:
            rows, total = caselist.list_cases(platform, session, actor, filters, limit=50)
            return len(rows), total

    with kernel.engine.connect() as connection:
        dialect = connection.dialect
        condition = visible(platform, actor)
        open_ = Case.__table__.c.status.in_(OPEN)  # type: ignore[attr-defined]
        table = Case.__table__  # type: ignore[attr-defined]
        page_sql = str(
            select(table)
            .where(condition, open_)
            .order_by(table.c.closed_at.is_not(None), table.c.due_on, table.c.id)
            .limit(50)
            .compile(dialect=dialect, compile_kwargs={"literal_binds": True})
        )
        count_sql = str(
            select(func.count())
            .select_from(table)
            .where(condition, open_)
            .compile(dialect=dialect, compile_kwargs={"literal_binds": True})
        )

        def baseline() -> tuple[int, int]:
            rows = connection.exec_driver_sql(page_sql).all()
            return len(rows), int(connection.exec_driver_sql(count_sql).scalar_one())

        assert subject() == baseline(), "the service and the SQL must agree"
        timings = _alternate(subject, baseline, plan.rounds, plan.repeats, clock)
        shown, total = baseline()
    return [
        Result(
            name=f"governance-list{suffix}",
            title=f"徐汇区's open cases, page of 50 + total ({total:,}), "
            f"median of {plan.rounds} rounds x {plan.repeats}",
            baseline=_figure("bare SQL", timings.theirs),
            subject=_figure("caselist.list_cases", timings.ours),
            command=command,
            notes=(
                facts,
                f"both return {shown} rows and the total {total:,}",
                timings.cpu_note(clock),
            ),
        )
    ]


def _stats(
    kernel: Any,
    actor: Any,
    plan: Plan,
    suffix: str,
    command: str,
    facts: str,
    clock: ServerClock | None,
) -> list[Result]:
    from shequyun_governance import stats
    from shequyun_governance.models import Case

    platform = kernel.platform
    with platform.session() as session:
        district = platform.unit(session, DISTRICT)
    since = date.today() - timedelta(days=365)

    def subject() -> int:
        with platform.session() as session:
            units, _ = stats.unit_outcomes(platform, session, actor, district, since)
            return sum(u.cases for u in units)

    def whole() -> int:
        with platform.session() as session:
            return stats.figures(platform, session, actor, unit=district).totals.cases

    table = Case.__table__  # type: ignore[attr-defined]
    with kernel.engine.connect() as connection:
        today = date.today()
        late = table.c.closed_on > table.c.due_on
        overdue = table.c.due_on < today
        grouped = str(
            select(table.c.unit_id, table.c.status, late, overdue, func.count())
            .where(
                platform.scope_filter(actor, "governance.view", table.c.unit_id),
                table.c.created_on >= since,
            )
            .group_by(table.c.unit_id, table.c.status, late, overdue)
            .compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
        )

        def baseline() -> int:
            return sum(int(r[-1]) for r in connection.exec_driver_sql(grouped).all())

        assert subject() == baseline(), "the service and the SQL must count the same cases"
        timings = _alternate(subject, baseline, plan.rounds, plan.repeats, clock)
        dashboard = [timed(whole, 1, None)[0] for _ in range(plan.rounds)]
    return [
        Result(
            name=f"governance-stats{suffix}",
            title=f"徐汇区's per-street 民情 table over a year, median of {plan.rounds} rounds x "
            f"{plan.repeats}",
            baseline=_figure("one GROUP BY", timings.theirs),
            subject=_figure("stats.unit_outcomes", timings.ours),
            command=command,
            notes=(
                facts,
                timings.cpu_note(clock),
                f"the whole dashboard (stats.figures: 4 queries + roll-up) took "
                f"{median(dashboard):.0f} ms ({spread(dashboard, ' ms')})",
            ),
        )
    ]


def _search(
    kernel: Any,
    actor: Any,
    plan: Plan,
    suffix: str,
    command: str,
    facts: str,
    clock: ServerClock | None,
) -> Result:
    from shequyun_governance import knowledge, search

    platform = kernel.platform
    chooser = random.Random(17)
    queries = [chooser.choice(QUERIES) for _ in range(plan.searches)]

    def subject(query: str) -> int:
        with platform.session() as session:
            found, _, _ = knowledge.search_articles(platform, session, actor, query)
            return len(found)

    with kernel.engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"

        def bare(words: list[str], every: bool) -> int:
            if postgres:
                function = "plainto_tsquery" if every else "websearch_to_tsquery"
                sql = (
                    "SELECT article_id FROM governance_article_search "
                    f"WHERE document @@ {function}('simple', :q) "
                    f"ORDER BY ts_rank_cd(document, {function}('simple', :q)) DESC LIMIT 20"
                )
                joined = " ".join(words) if every else " or ".join(words)
                return len(connection.execute(text(sql), {"q": joined}).all())
            sql = (
                "SELECT rowid FROM governance_article_fts WHERE governance_article_fts MATCH :q "
                "ORDER BY bm25(governance_article_fts, 10.0, 1.0) LIMIT 20"
            )
            expression = (" AND " if every else " OR ").join(f'"{w}"' for w in words)
            return len(connection.execute(text(sql), {"q": expression}).all())

        def baseline(query: str) -> int:
            # The same question: every word, and any word when every word finds nothing.
            words = search.terms(query)
            return bare(words, True) or bare(words, False)

        for query in QUERIES:  # warm both
            subject(query), baseline(query)
        timings = Timings([], [], [], [])
        for query in queries:
            wall, cpu = timed(lambda q=query: subject(q), 1, clock)
            timings.ours.append(wall)
            timings.ours_cpu.append(cpu)
            wall, cpu = timed(lambda q=query: baseline(q), 1, clock)
            timings.theirs.append(wall)
            timings.theirs_cpu.append(cpu)
    ours, theirs = timings.ours, timings.theirs
    return Result(
        name=f"governance-search{suffix}",
        title=f"knowledge-base search p95 over {plan.searches} queries (goal: under 50 ms)",
        baseline=Figure("bare full-text query", _p95(theirs), "ms", spread(theirs, " ms")),
        subject=Figure("knowledge.search_articles", _p95(ours), "ms", spread(ours, " ms")),
        command=command,
        notes=(
            facts,
            f"median {median(ours):.1f} ms vs {median(theirs):.1f} ms; the subject also segments "
            "the query, checks visibility and cuts highlighted snippets",
            timings.cpu_note(clock, statistic="p95"),
            timings.cpu_note(clock),
        ),
    )


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer cases and articles")
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=DEFAULT_POSTGRES,
        metavar="URL",
        help=f"also on PostgreSQL, in a temporary database on this server ({DEFAULT_POSTGRES})",
    )
    parser.add_argument("--cases", type=int, help="how many cases (a smaller run to iterate on)")
    parser.add_argument("--articles", type=int, help="how many knowledge-base articles")
    parser.add_argument("--no-sqlite", dest="sqlite", action="store_false", help="PostgreSQL only")
    args = parser.parse_args(argv)
    found = run(
        quick=args.quick,
        postgres_url=args.postgres,
        cases=args.cases,
        articles=args.articles,
        sqlite=args.sqlite,
    )
    for result in found:
        print(result.report(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
