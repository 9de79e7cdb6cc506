"""Fake secrets of public token formats, in the places they turn up in CI.

Every value is random (seeded), of the documented shape, and never a real secret.
A Shape says where the secret goes (a line the build prints, the command's argv, the
environment) and which substrings must never reach anything ci-guard writes.
"""

from __future__ import annotations

import base64
import random
import string
from dataclasses import dataclass, field

_RNG = random.Random(20261203)
ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "_-"
LOWER_DIGITS = string.ascii_lowercase + string.digits


def rand(chars: str, n: int) -> str:
    return "".join(_RNG.choice(chars) for _ in range(n))


@dataclass(frozen=True)
class Shape:
    name: str
    secret: str
    """The part that must never appear in anything ci-guard writes."""
    line: str = ""
    """A line the build prints ("" for none)."""
    argv: tuple[str, ...] = ()
    """Arguments of the wrapped command."""
    env: dict[str, str] = field(default_factory=dict)
    """Environment of the run."""
    also: tuple[str, ...] = ()
    """Further substrings that must not appear (each line of a multi-line secret)."""

    @property
    def leaks(self) -> tuple[str, ...]:
        return (self.secret, *self.also)


def _printed(name: str, secret: str, template: str = "using {s}") -> Shape:
    return Shape(name, secret, line=template.format(s=secret))


def _pem(kind: str, lines: int = 6) -> tuple[str, list[str]]:
    body = [rand(B64, 64) for _ in range(lines)]
    text = "\n".join([f"-----BEGIN {kind}-----", *body, f"-----END {kind}-----"])
    return text, body


def _token_shapes() -> list[Shape]:
    s = _printed
    return [
        s("github-classic-pat", "ghp_" + rand(ALNUM, 36)),
        s("github-oauth", "gho_" + rand(ALNUM, 36)),
        s("github-user-to-server", "ghu_" + rand(ALNUM, 36)),
        s("github-app-installation", "ghs_" + rand(ALNUM, 36)),
        s("github-refresh", "ghr_" + rand(ALNUM, 76)),
        s("github-fine-grained", "github_pat_" + rand(ALNUM, 22) + "_" + rand(ALNUM, 59)),
        s("gitlab-pat", "glpat-" + rand(URLSAFE, 20)),
        s("gitlab-deploy-token", "gldt-" + rand(URLSAFE, 20)),
        s("gitlab-runner-token", "glrt-t1_" + rand(URLSAFE, 20)),
        s("gitlab-ci-job-token", "glcbt-64_" + rand(URLSAFE, 20)),
        s("gitlab-trigger-token", "glptt-" + rand(HEX, 40)),
        s("dockerhub-pat", "dckr_pat_" + rand(URLSAFE, 27)),
        s("dockerhub-org-token", "dckr_oat_" + rand(URLSAFE, 32)),
        s("aws-access-key-id", "AKIA" + rand(UPPER_DIGITS, 16)),
        s("aws-temporary-key-id", "ASIA" + rand(UPPER_DIGITS, 16)),
        s("aws-session-token", "IQoJb3JpZ2luX2Vj" + rand(B64, 300)),
        s("google-api-key", "AIza" + rand(URLSAFE, 35)),
        s("google-oauth-client-secret", "GOCSPX-" + rand(URLSAFE, 28)),
        s("google-oauth-access-token", "ya29." + rand(URLSAFE, 120)),
        s("azure-ad-client-secret", rand(ALNUM, 3) + "8Q~" + rand(ALNUM + "_-.", 34)),
        s(
            "slack-bot",
            "xoxb-"
            + rand(string.digits, 12)
            + "-"
            + rand(string.digits, 13)
            + "-"
            + rand(ALNUM, 24),
        ),
        s("slack-user", "xoxp-" + rand(string.digits, 12) + "-" + rand(ALNUM, 40)),
        s("slack-app-level", "xapp-1-A" + rand(UPPER_DIGITS, 10) + "-" + rand(HEX, 64)),
        s("stripe-live-secret", "sk_live_" + rand(ALNUM, 99)),
        s("stripe-restricted", "rk_live_" + rand(ALNUM, 99)),
        s("stripe-test-secret", "sk_test_" + rand(ALNUM, 24)),
        s("stripe-webhook-secret", "whsec_" + rand(ALNUM, 32)),
        s("twilio-api-key", "SK" + rand(HEX, 32)),
        s("sendgrid", "SG." + rand(URLSAFE, 22) + "." + rand(URLSAFE, 43)),
        s("mailgun", "key-" + rand(HEX, 32)),
        s("npm-token", "npm_" + rand(ALNUM, 36)),
        s("pypi-token", "pypi-AgEIcHlwaS5vcmc" + rand(URLSAFE, 70)),
        s("nuget-api-key", "oy2" + rand(LOWER_DIGITS, 43)),
        s("artifactory-api-key", "AKCp8" + rand(ALNUM, 68)),
        s("artifactory-reference-token", "cmVmdGtuOjAxOj" + rand(ALNUM, 50)),
        s("vault-service-token", "hvs." + rand(URLSAFE, 90)),
        s("vault-batch-token", "hvb." + rand(URLSAFE, 120)),
        s("terraform-cloud", rand(ALNUM, 14) + ".atlasv1." + rand(URLSAFE, 67)),
        s("digitalocean-pat", "dop_v1_" + rand(HEX, 64)),
        s("heroku-api-key", "HRKU-AA" + rand(URLSAFE, 58)),
        s("pulumi", "pul-" + rand(HEX, 40)),
        s("doppler", "dp.st.prd." + rand(ALNUM, 43)),
        s("shopify-admin", "shpat_" + rand(HEX, 32)),
        s("atlassian-api-token", "ATATT3xFfGF0" + rand(URLSAFE, 180)),
        s("huggingface", "hf_" + rand(ALNUM, 34)),
        s("databricks", "dapi" + rand(HEX, 32)),
        s("linear", "lin_api_" + rand(ALNUM, 40)),
        s("postman", "PMAK-" + rand(HEX, 24) + "-" + rand(HEX, 34)),
        s("grafana-cloud", "glc_" + rand(B64, 64)),
        s("new-relic", "NRAK-" + rand(UPPER_DIGITS, 27)),
        s("buildkite", "bkua_" + rand(ALNUM, 40)),
        s("sentry-auth-token", "sntrys_" + rand(B64, 80)),
        s("openai-project", "sk-proj-" + rand(URLSAFE, 120)),
        s("openai-legacy", "sk-" + rand(ALNUM, 48)),
        s("anthropic", "sk-ant-api03-" + rand(URLSAFE, 93) + "AA"),
        s("telegram-bot", rand(string.digits, 10) + ":AA" + rand(URLSAFE, 33)),
        s("age-secret-key", "AGE-SECRET-KEY-1" + rand(UPPER_DIGITS, 58)),
        s("jwt", "eyJhbGciOiJIUzI1NiJ9.eyJ" + rand(URLSAFE, 40) + "." + rand(URLSAFE, 43)),
    ]


def _context_shapes() -> list[Shape]:
    s = _printed
    userpass = rand(ALNUM, 18)
    return [
        s("basic-auth-url", rand(ALNUM, 16), "git clone https://deploy:{s}@git.example.com/r.git"),
        s("sentry-dsn", rand(HEX, 32), "SENTRY_DSN is https://{s}@o12345.ingest.sentry.io/678"),
        s(
            "azure-sas-sig",
            rand(ALNUM, 30) + "%2B" + rand(ALNUM, 10) + "%3D",
            "GET https://acct.blob.core.windows.net/c/b?sv=2022-11-02&se=2026&sp=r&sig={s}",
        ),
        s(
            "azure-account-key",
            rand(B64, 86) + "==",
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={s};EndpointSuffix=x",
        ),
        s("x-api-key-header", rand(ALNUM, 32), "curl -H 'x-api-key: {s}' https://api.example"),
        s("authorization-bearer", rand(URLSAFE, 40), "Authorization: Bearer {s}"),
        s("curl-user", userpass, "curl -u admin:{s} https://nexus.example/service"),
        s("skopeo-creds", rand(ALNUM, 20), "skopeo copy --creds robot:{s} docker://a docker://b"),
        s("mysql-p", rand(ALNUM, 14), "mysql -h db -u root -p{s} app < dump.sql"),
        s("docker-login-p", rand(ALNUM, 16), "docker login -u ci -p {s} registry.example"),
        s("npm-auth", base64.b64encode(rand(ALNUM, 24).encode()).decode(), "_auth={s}"),
        s("npmrc-authtoken", rand(URLSAFE, 36), "//npm.example.com/:_authToken={s}"),
        s(
            "docker-config-auth",
            base64.b64encode(b"ci:" + rand(ALNUM, 20).encode()).decode(),
            '{{"auths": {{"registry.example": {{"auth": "{s}"}}}}}}',
        ),
        s("aws-secret-quoted", rand(B64, 40), 'AWS_SECRET_ACCESS_KEY="{s}"'),
        s("aws-credentials-file", rand(B64, 40), "aws_secret_access_key = {s}"),
        s("json-password", rand(ALNUM, 20), '{{"username": "ci", "password": "{s}"}}'),
        s(
            "gcp-service-account",
            rand(B64, 64),
            '"private_key": "-----BEGIN PRIVATE KEY-----\\n{s}\\n-----END PRIVATE KEY-----\\n"',
        ),
        s(
            "slack-webhook",
            "T" + rand(UPPER_DIGITS, 8) + "/B" + rand(UPPER_DIGITS, 10) + "/" + rand(ALNUM, 24),
            "posting to https://hooks.slack.com/services/{s}",
        ),
        s(
            "discord-webhook",
            rand(string.digits, 18) + "/" + rand(URLSAFE, 68),
            "POST https://discord.com/api/webhooks/{s}",
        ),
        s("url-token-query", rand(URLSAFE, 32), "GET https://api.example/v1?access_token={s}"),
        s("build-arg-token", rand(ALNUM, 30), "--build-arg NPM_TOKEN={s}"),
    ]


def _key_shapes() -> list[Shape]:
    shapes = []
    for name, kind in (
        ("pem-rsa-private-key", "RSA PRIVATE KEY"),
        ("pem-pkcs8-private-key", "PRIVATE KEY"),
        ("openssh-private-key", "OPENSSH PRIVATE KEY"),
        ("pgp-private-key", "PGP PRIVATE KEY BLOCK"),
    ):
        text, body = _pem(kind)
        shapes.append(Shape(name, body[0], line=text, also=tuple(body[1:])))
    return shapes


def _argv_shapes() -> list[Shape]:
    token, userpass, creds = rand(ALNUM, 24), rand(ALNUM, 18), rand(ALNUM, 20)
    password, mysql = rand(ALNUM, 16), rand(ALNUM, 14)
    return [
        Shape("argv-password-flag", password, argv=("--password", password)),
        Shape("argv-curl-user", userpass, argv=("-u", f"admin:{userpass}")),
        Shape("argv-creds", creds, argv=(f"--creds=robot:{creds}",)),
        Shape("argv-mysql-p", mysql, argv=("mysql", f"-p{mysql}")),
        Shape("argv-token-assignment", token, argv=(f"GITHUB_TOKEN={token}",)),
    ]


def _env_shapes() -> list[Shape]:
    key_text, key_body = _pem("OPENSSH PRIVATE KEY")
    named = {
        "DOCKER_PASS": rand(ALNUM, 14),
        "REGISTRY_PASS": rand(ALNUM, 15),
        "AZURE_STORAGE_SAS": "sv=2022&sig=" + rand(ALNUM, 30),
        "SENTRY_DSN": "https://" + rand(HEX, 32) + "@o1.ingest.sentry.io/2",
        "TEAMS_WEBHOOK_URL": "https://example.webhook.office.com/webhookb2/" + rand(ALNUM, 30),
        "CI_REGISTRY_PASSWORD": rand(ALNUM, 20),
        "GITLAB_PAT": rand(ALNUM, 20),
        "DATADOG_API_KEY": rand(HEX, 32),
        "TWILIO_AUTH_TOKEN": rand(HEX, 32),
        "CLOUDFLARE_API_TOKEN": rand(URLSAFE, 40),
    }
    shapes = [
        Shape(f"env-{name.lower()}", value, line=f"value: {value}", env={name: value})
        for name, value in named.items()
    ]
    shapes.append(
        Shape(
            "env-multiline-ssh-key",
            key_body[0],
            line="\n".join(f"> {x}" for x in key_body),
            env={"DEPLOY_SSH_KEY": key_text},
            also=tuple(key_body[1:]),
        )
    )
    declared = rand(ALNUM, 22)
    shapes.append(
        Shape(
            "env-declared-secret",
            declared,
            line=f"conn {declared}",
            env={"JENKINS_BOUND_THING": declared, "CI_GUARD_SECRET_ENV": "JENKINS_BOUND_*"},
        )
    )
    return shapes


SHAPES: tuple[Shape, ...] = tuple(
    _token_shapes() + _context_shapes() + _key_shapes() + _argv_shapes() + _env_shapes()
)
RESTART_SECRET = rand(ALNUM, 18)
RESTART_COMMAND = f"curl -fsS -u ops:{RESTART_SECRET} -X POST https://ops.example/restart"
