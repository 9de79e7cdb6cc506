"""The holdout evaluation counts what it claims: class and retry-decision agreement."""

from __future__ import annotations

from bench.bench_classify_holdout import Score, confusion_rows, markdown_table, score
from ci_guard.failure import FailureClass
from tests.corpus_loader import HOLDOUT, Message


def _message(text: str, expected: FailureClass) -> Message:
    return Message("x.toml", 0, text, expected, "src", 1, None, False, HOLDOUT)


def test_score_counts_class_and_retry_agreement_separately() -> None:
    result = score(
        [
            _message("toomanyrequests: Rate exceeded\n", FailureClass.RATE_LIMITED),
            # Labelled rate_limited but a 503 is named: class wrong, retry decision right.
            _message(
                "received unexpected HTTP status: 503 Service Unavailable\n",
                FailureClass.RATE_LIMITED,
            ),
            # Labelled auth_denied (no retry) but nothing matches (unknown, retried).
            _message("something nobody wrote a rule for\n", FailureClass.AUTH_DENIED),
        ]
    )
    assert (result.rows, result.class_hits, result.retry_hits) == (3, 1, 2)
    assert result.summary() == {"rows": 3, "class_accuracy": 0.3333, "retry_accuracy": 0.6667}
    assert result.confusion["rate_limited"] == {"rate_limited": 1, "registry_unavailable": 1}


def test_confusion_rows_and_table_name_the_misses() -> None:
    result = Score()
    result.add(FailureClass.DNS_FAILURE, FailureClass.DNS_FAILURE, True)
    result.add(FailureClass.DNS_FAILURE, FailureClass.UNKNOWN, True)
    assert confusion_rows(result) == [("dns_failure", 2, 1, "unknown 1")]
    assert "| `dns_failure` | 2 | 1 | unknown 1 |" in markdown_table(result)
