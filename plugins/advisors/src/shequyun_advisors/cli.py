"""``shequyun advisors test``: run the policies' YAML cases, as pytest does."""

from __future__ import annotations

from pathlib import Path

import click

from .policy.cases import run_cases
from .policy.loader import PolicyError, load_file, shipped_policies

__all__ = ["COMMANDS"]


@click.command("test")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--policy", "only", default=None, help="Only the policy with this id.")
def test_policies(files: tuple[Path, ...], only: str | None) -> None:
    """Run the YAML cases of the shipped policies, or of the policy FILES given."""
    try:
        policies = [load_file(path) for path in files] if files else shipped_policies()
    except PolicyError as exc:
        raise click.ClickException("政策文件有误：" + str(exc)) from None
    if only:
        policies = [p for p in policies if p.id == only]
        if not policies:
            raise click.ClickException(f"没有 id 为 {only} 的政策")
    failed = total = 0
    for policy in policies:
        results = run_cases(policy)
        bad = [r for r in results if not r.passed]
        total += len(results)
        failed += len(bad)
        click.echo(
            f"{'FAIL' if bad else 'ok  '} {policy.id}  {policy.name}  "
            f"{len(results) - len(bad)}/{len(results)}"
        )
        for result in bad:
            click.echo(f"     ✗ {result.name}")
            for problem in result.problems:
                click.echo(f"         {problem}")
    click.echo(f"{total - failed} passed, {failed} failed")
    if failed:
        raise SystemExit(1)


COMMANDS = [test_policies]
