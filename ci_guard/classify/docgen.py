"""Render docs/failure-classes.md from classes.toml and rules.toml.

    python -m ci_guard.classify.docgen > docs/failure-classes.md

A unit test checks that the committed page equals this output.
"""

from __future__ import annotations

import sys

from ci_guard.classify.rules import TIERS, Rule, RuleSet, load_rules
from ci_guard.failure import ClassInfo, FailureClass, class_table

INTRO = """\
# Failure classes

When an attempt fails, ci-guard names the failure: a **class** (what broke), whether
a **retry** can help, the **rule** that matched, and up to five **evidence** lines
from the output. The run loop uses the class to decide between giving up, retrying,
restarting the daemon and repairing the network; `ci-guard classify LOG` does the
same for a saved log.

This page is generated from `ci_guard/data/classes.toml` and
`ci_guard/data/rules.toml` by `python -m ci_guard.classify.docgen`; edit those
files, not this page.

## How a failure is classified

1. Exit code 0 (and no deadline hit): success, nothing to classify.
2. ci-guard ended the attempt while a registry phase of the output was open (BuildKit
   `load metadata for`, a `FROM` vertex resolving or downloading layers; classic
   `Step N/M : FROM`, `Pulling from`, `Pulling fs layer`, `Waiting`...): class
   `registry_timeout`, rule `registry-stall` when that phase showed no progress for
   `--registry-stall-timeout` seconds, rule `registry-phase-deadline` when the attempt's
   deadline hit during it. The evidence is the phase's first and last line.
3. Otherwise, the attempt hit ci-guard's own deadline (`--timeout`,
   `--no-output-timeout`): class `timeout`, rule `deadline`, whatever the output says.
4. Otherwise every line of the whole attempt output is checked against the rules,
   after removing ANSI colour codes, CI timestamps and BuildKit `#12 3.456 `
   prefixes. Rules sit in four tiers, strongest first:
   - `permanent`: a retry cannot help (full disk, untrusted certificate, unknown
     image, bad credentials, Dockerfile or compose syntax, missing COPY source, OOM kill);
     also a CI platform's time limit and a runner's shutdown, which kill the job's
     processes: the exit 137 or `Killed` they leave is theirs, not the OOM killer's;
     and a BuildKit client session that went away, whose deadline is no missing
     Dockerfile and no registry's timeout;
     and ECR's token endpoint not answering, which leaves `docker login` without a
     password: its refusal that follows is the consequence, not bad credentials;
   - `cause`: a specific root cause (DNS, apt/apk/pip/npm/yarn/go/curl/gradle network
     errors inside a step, 429, 5xx, TLS or client timeouts, daemon and runtime faults,
     a CI platform's step deadline);
   - `network`: broad network patterns (i/o timeout, connection reset or refused, EOF);
   - `symptom`: how a failure looks from outside (a bare non-zero RUN step, a
     compiler's or package manager's own error inside it, a CI runner's system
     failure, compose's `context canceled`, an `ERROR [internal] load metadata`
     header, `failed to solve`). A RUN step that failed with nothing stronger in its
     output is `build_step_failure`, not `unknown`: a network error of a package
     manager anywhere in the output (a cause) still wins over it.

   The strongest tier with any match wins, wherever in the output it appears: the
   root cause beats the symptom (apt's `Temporary failure resolving` early in the log
   beats compose's `context canceled` at the end), and permanent patterns beat broad
   network ones. Within one tier the rule listed first in `rules.toml` wins.
5. No rule matched: exit code 125 (the docker CLI's "the daemon failed") gives
   `daemon_unreachable` (rule `docker-exit-125`); a SIGKILL (exit 137 or signal 9)
   without OOM evidence gives `unknown` (rule `sigkill`); anything else gives
   `unknown` (rule `no-match`).

Whether a failure is retryable comes from the class, unless the rule says otherwise
(marked in the rule tables below).

Example:

```console
$ ci-guard classify build.log
dns_failure (retryable) rule=apt-dns
  why: A host name could not be resolved (apt, pip, curl, git inside a step, or the daemon).
  > W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Temporary fail...
$ ci-guard classify --json build.log
{"class": "dns_failure", "retryable": true, "rule": "apt-dns", "evidence": ["W: ..."]}
```

`ci-guard classify [FILE|-] [--json] [--exit-code N] [--timed-out] [--explain]` reads
the file or standard input, exits 0 when it named a failure and 2 when the log cannot
be read (missing file, a directory, binary data) or a rule is bad.

## What the daemon saw

dockerd tries each registry mirror, then Docker Hub; when every mirror fails, the
client prints only Docker Hub's failure (its name does not resolve, its network is
unreachable), so a mirror's reset, 503, 429, blackhole or a misspelt tag would all
look like `dns_failure`. After a `dns_failure`, `connection_failure` or
`registry_timeout` whose evidence names Docker Hub (mirrors serve Docker Hub images
only; another registry's failure is its own), `ci-guard run` reads the daemon's log
for the attempt's time window (`journalctl -u UNIT` where systemd runs dockerd, else
the file the daemon's stderr goes to), keeps its messages about pull endpoints that
failed other than Docker Hub itself (`Attempting next endpoint for pull after error:
...`) and classifies them with the same rules. When they name a class, it wins: a misspelt tag
becomes `image_not_found` (not retried), a mirror's 429 `rate_limited` (the long
wait). Those lines lead the evidence, marked `[dockerd] `, and `attempt.finished`
says where they came from (`daemon_evidence`: `file:PATH` or `journald:UNIT`).
The window is the attempt's own (from its start to its end, plus half a second for
the daemon's last lines); another job's pull on the same daemon during the attempt
can show up in it.

When the daemon's log cannot be read, the mirrors in `daemon-config`'s
`registry-mirrors` are asked directly, in parallel and within about 3 seconds: the
probe of `ci-guard mirrors probe` with a manifest HEAD for the Docker Hub image(s)
the output names (`load metadata for`, `Pulling from`, pull error lines, or `docker
pull IMAGE`). A 404 for the manifest on every mirror gives `image_not_found`, a 429
`rate_limited`, a 5xx `registry_unavailable`, no answer `registry_timeout`, a reset
or refusal `connection_failure` (rule `mirror-answers`, evidence marked `[mirror
URL] `, `daemon_evidence: mirror-probe`). A mirror that serves the image explains
nothing, and the failure stays as it was. The `daemon-evidence` setting chooses:
`auto` (the log, else the mirrors), `log`, `mirrors` or `off`.

## Why this class? `--explain`

`ci-guard classify --explain build.log` prints, after the verdict, every rule that
matched, in checking order: its name, tier, class, source (`built-in` or the file it
was written in) and the lines it matched; and why the winner won (the strongest tier
with a match, then the first rule of that tier). With `--json` the same comes as
`matches` and `explanation`. When a run ends on `unknown`, its summary points here.

## Your own rules

Teams add rules for their own messages (an internal registry, an in-house tool) with
the schema of `rules.toml` (keys `name`, `class`, `tier`, `pattern`, `why`, and
optionally `retryable`, `case_sensitive`, `keywords`), as `[[rule]]` tables in
`ci-guard.toml`, as `[[tool.ci-guard.rule]]` in `pyproject.toml`, and/or in a file
named by the `rules-file` setting (`--rules-file`, `CI_GUARD_RULES_FILE`):

```toml
[[rule]]
name = "artifactory-503"
class = "registry_unavailable"
tier = "cause"
pattern = "artifactory\\\\.corp\\\\.example.*: 503"
why = "Our Artifactory is down for maintenance."
```

Your rules come before the built-in ones: within each tier they are checked first,
and a rule with the name of a built-in one replaces it. Tiers still rank (a `symptom`
rule of yours does not beat a built-in `cause`). A bad rule stops `ci-guard run` and
`ci-guard classify` before anything runs, with exit 2 and one line naming the file and
the rule. A pattern is case-insensitive unless `case_sensitive = true`; a pattern
that requires no literal text at all (only `\\w`, `.` and the like) needs `keywords`,
words of which every line it matches holds one.

## Unrecognised failures

`unknown` means no rule matched. It is retried with plain retries only (never a
daemon restart or a network repair: nothing says the daemon or the network is at
fault), or not at all with `--no-retry-unknown` (`retry-unknown = false`). The run's
summary says the failure was not recognised and points at `ci-guard classify
--explain` for the attempt's log. Add a rule of your own for it, and please report
the output (with secrets removed) so a built-in rule can be written.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _class_table(table: dict[FailureClass, ClassInfo]) -> list[str]:
    rows = [
        "## Classes",
        "",
        "| class | retryable | fitting remedies | summary | advice |",
        "| --- | --- | --- | --- | --- |",
    ]
    for info in table.values():
        remedies = ", ".join(info.remedies) or "none"
        rows.append(
            f"| `{info.name.value}` | {_yes(info.retryable)} | {remedies} "
            f"| {_cell(info.summary)} | {_cell(info.advice)} |"
        )
    return rows


def _rule_row(rule: Rule) -> str:
    override = ""
    if rule.retryable is not None:
        override = f" Retryable: {_yes(rule.retryable)} (rule override)."
    return f"| `{rule.name}` | {rule.tier} | {_cell(rule.why)}{override} |"


def _rules_by_class(rules: RuleSet, table: dict[FailureClass, ClassInfo]) -> list[str]:
    rows = ["## Rules per class", ""]
    for cls in table:
        rows.append(f"### `{cls.value}`")
        rows.append("")
        mine = [rule for rule in rules.rules if rule.failure_class is cls]
        if cls is FailureClass.TIMEOUT:
            rows.append(
                "Given by the attempt's deadline (rule `deadline`), whatever the output says;"
                " the rules below name a CI platform's own deadline from its message."
            )
            rows.append("")
        if cls is FailureClass.REGISTRY_TIMEOUT:
            rows.append(
                "Also given when ci-guard ends an attempt during a registry phase "
                "(rules `registry-stall`, `registry-phase-deadline`), not by the output."
            )
            rows.append("")
        if cls is FailureClass.UNKNOWN:
            rows.append("Also given when no rule matches (rules `no-match`, `sigkill`).")
            rows.append("")
        if cls is FailureClass.DAEMON_UNREACHABLE:
            rows.append("Also given for exit code 125 when no rule matches (`docker-exit-125`).")
            rows.append("")
        if mine:
            rows.extend(["| rule | tier | what the match means |", "| --- | --- | --- |"])
            rows.extend(_rule_row(rule) for rule in mine)
            rows.append("")
    return rows


def _tier_order(rules: RuleSet) -> list[str]:
    rows = ["## Rule order", "", "Checking order (tier, then position in rules.toml):", ""]
    for tier in TIERS:
        names = ", ".join(f"`{r.name}`" for r in rules.rules if r.tier == tier)
        rows.append(f"- **{tier}**: {names}")
    rows.append("")
    return rows


def render(rules: RuleSet | None = None) -> str:
    ruleset = rules if rules is not None else load_rules()
    table = class_table()
    parts = [INTRO, *_class_table(table), "", *_rules_by_class(ruleset, table)]
    parts.extend(_tier_order(ruleset))
    return "\n".join(parts).rstrip("\n") + "\n"


def main() -> int:
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
