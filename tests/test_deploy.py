"""The deployment files keep what production relies on: the Kubernetes manifests validate and
hold their hardening, probes and wiring; the CloudNativePG cluster is replicated and backed
up; the image runs as a non-root user from paths that exist; the systemd units and every
container run real `askel` commands with real settings."""

from __future__ import annotations

import configparser
import json
import re
import shlex
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import typer.main
import yaml
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from app.cli import cli
from app.config import Settings
from app.db import MIGRATIONS_DIR
from app.fhir_sync.mappings import MAPPINGS_DIR
from app.observability import router as operations_router

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
POSTGRES = DEPLOY / "postgres"
SYSTEMD = DEPLOY / "systemd"
CONTAINERFILE = DEPLOY / "container" / "Containerfile"
DOCKERIGNORE = DEPLOY / "container" / "Containerfile.dockerignore"
KUSTOMIZATION = KUBERNETES / "kustomization.yaml"
SECRET_EXAMPLE = KUBERNETES / "secret.example.yaml"
NAMESPACE = "askel"
WORKLOAD_KINDS = ("Deployment", "Job", "CronJob")
CNPG_GROUP = "postgresql.cnpg.io/"

Doc = dict[str, Any]


def load(path: Path) -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


@cache
def manifests() -> tuple[tuple[str, Doc], ...]:
    """Every resource the kustomization and the database directory apply, with its file."""
    paths = [p for p in sorted(KUBERNETES.glob("*.yaml")) if p not in (KUSTOMIZATION,)]
    paths = [p for p in paths if p != SECRET_EXAMPLE] + sorted(POSTGRES.glob("*.yaml"))
    return tuple((path.name, doc) for path in paths for doc in load(path))


def of_kind(kind: str) -> list[Doc]:
    return [doc for _, doc in manifests() if doc["kind"] == kind]


def one(kind: str, name: str) -> Doc:
    found = [doc for doc in of_kind(kind) if doc["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def secret_examples() -> dict[str, dict[str, str]]:
    return {doc["metadata"]["name"]: doc["stringData"] for doc in load(SECRET_EXAMPLE)}


def config_map() -> dict[str, str]:
    data: dict[str, str] = one("ConfigMap", "askel")["data"]
    return data


def pod_template(workload: Doc) -> Doc:
    if workload["kind"] == "CronJob":
        template: Doc = workload["spec"]["jobTemplate"]["spec"]["template"]
    else:
        template = workload["spec"]["template"]
    return template


def workloads() -> list[Doc]:
    return [doc for _, doc in manifests() if doc["kind"] in WORKLOAD_KINDS]


def containers(pod: Doc) -> list[Doc]:
    spec = pod["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def workload_id(workload: Doc) -> str:
    return f"{workload['kind']}/{workload['metadata']['name']}"


def api() -> Doc:
    return one("Deployment", "askel-api")


def api_container() -> Doc:
    (container,) = pod_template(api())["spec"]["containers"]
    return container


def cnpg_cluster() -> Doc:
    (cluster,) = of_kind("Cluster")
    assert cluster["apiVersion"] == f"{CNPG_GROUP}v1"
    return cluster


def pod_labels() -> list[dict[str, str]]:
    """The labels of every pod these manifests make, CloudNativePG's instances included."""
    labels = [pod_template(workload)["metadata"]["labels"] for workload in workloads()]
    return [*labels, {"cnpg.io/cluster": cnpg_cluster()["metadata"]["name"]}]


def selects(selector: Doc, labels: dict[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels and matchExpressions) against a pod's labels."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values", [])
        match operator:
            case "In" if labels.get(key) not in values:
                return False
            case "NotIn" if key in labels and labels[key] in values:
                return False
            case "Exists" if key not in labels:
                return False
            case "DoesNotExist" if key in labels:
                return False
            case "In" | "NotIn" | "Exists" | "DoesNotExist":
                pass
            case _:
                raise AssertionError(f"unknown selector operator {operator}")
    return True


def matched_pods(selector: Doc) -> list[dict[str, str]]:
    return [labels for labels in pod_labels() if selects(selector, labels)]


def container_port(container: Doc, port: int | str) -> int:
    """A probe's or service's port, by number or by the container port's name."""
    if isinstance(port, int):
        return port
    (found,) = [p["containerPort"] for p in container.get("ports", []) if p.get("name") == port]
    assert isinstance(found, int)
    return found


def option(args: list[str], name: str) -> str:
    assert name in args, f"{name} missing from {args}"
    return args[args.index(name) + 1]


# The askel command line ------------------------------------------------------------------------


def askel_command(argv: list[str]) -> str:
    """Parse `askel ARGV` with the real Typer app (without running it); the command's path."""
    command: Any = typer.main.get_command(cli)
    path: list[str] = []
    rest = list(argv)
    while hasattr(command, "commands"):  # a group
        assert rest, f"`askel {' '.join(path)}` needs a subcommand"
        name = rest.pop(0)
        assert name in command.commands, f"`askel {' '.join([*path, name])}` is no command"
        command = command.commands[name]
        path.append(name)
    # Options and arguments must parse: a renamed flag fails here.
    command.make_context(" ".join(path), rest)
    return " ".join(path)


def test_the_command_parser_catches_what_it_should() -> None:
    assert askel_command(["serve", "--host", "0.0.0.0", "--port", "8000"]) == "serve"
    assert askel_command(["db", "upgrade"]) == "db upgrade"
    with pytest.raises(AssertionError, match="no command"):
        askel_command(["db", "migrate"])
    with pytest.raises(Exception, match="No such option: --listen"):
        askel_command(["serve", "--listen", "0.0.0.0"])


# Settings -------------------------------------------------------------------------------------


def setting_names() -> set[str]:
    return {f"ASKEL_{name.upper()}" for name in Settings.model_fields}


def secret_setting_names() -> set[str]:
    """Settings that must never be baked into an image or a ConfigMap."""
    secret = {
        f"ASKEL_{name.upper()}"
        for name, field in Settings.model_fields.items()
        if "SecretStr" in str(field.annotation) or field.annotation is SecretStr
    }
    return {*secret, "ASKEL_DATABASE_URL"}


def test_the_secret_settings_are_known() -> None:
    assert {"ASKEL_HETU_KEY", "ASKEL_AUDIT_KEY", "ASKEL_NOTICE_GATEWAY_KEY"} <= (
        secret_setting_names()
    )


# Kubernetes -----------------------------------------------------------------------------------


def test_the_manifests_are_there_and_in_the_namespace() -> None:
    kinds = {doc["kind"] for _, doc in manifests()}
    assert {
        "Namespace",
        "ServiceAccount",
        "ConfigMap",
        "Deployment",
        "Job",
        "CronJob",
        "Service",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "Cluster",
        "ScheduledBackup",
    } <= kinds
    for file, doc in manifests():
        assert doc["metadata"]["name"], file
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == NAMESPACE, f"{file}: {doc['kind']}"


def core_documents() -> list[Any]:
    """Every document but the kustomization and CloudNativePG's own kinds."""
    paths = [*sorted(KUBERNETES.glob("*.yaml")), *sorted(POSTGRES.glob("*.yaml"))]
    return [
        pytest.param(doc, id=f"{path.name}:{doc['kind']}/{doc['metadata']['name']}")
        for path in paths
        for doc in load(path)
        if doc["kind"] != "Kustomization" and not doc["apiVersion"].startswith(CNPG_GROUP)
    ]


@pytest.mark.parametrize("doc", core_documents())
def test_core_kinds_validate_against_the_newest_kubernetes_schema(doc: Doc) -> None:
    # The newest Kubernetes release whose schemas the installed kubernetes-validate ships;
    # strict: a misspelt or misplaced field is an error, not silently dropped.
    newest = kubernetes_validate.latest_version()
    kubernetes_validate.validate(doc, newest, strict=True)


def test_the_schema_check_is_strict() -> None:
    deployment = json.loads(json.dumps(api()))
    pod_template(deployment)["spec"]["containers"][0]["readinessprobe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, kubernetes_validate.latest_version(), strict=True)


def test_the_kustomization_lists_exactly_the_manifests() -> None:
    (kustomization,) = load(KUSTOMIZATION)
    listed = kustomization["resources"]
    assert len(listed) == len(set(listed))
    present = {path.name for path in KUBERNETES.glob("*.y*ml")}
    assert set(listed) == present - {KUSTOMIZATION.name, SECRET_EXAMPLE.name}
    assert kustomization["namespace"] == NAMESPACE
    images = {image["name"] for image in kustomization.get("images", [])}
    used = {c["image"] for w in workloads() for c in containers(pod_template(w))}
    assert used <= images, "every container image is set by the kustomization"


def test_the_api_runs_at_least_two_replicas_spread_over_nodes() -> None:
    spec = api()["spec"]
    assert spec["replicas"] >= 2
    pod = pod_template(api())
    spread = pod["spec"].get("topologySpreadConstraints", [])
    anti = pod["spec"].get("affinity", {}).get("podAntiAffinity")
    assert spread or anti
    for constraint in spread:
        assert selects(constraint["labelSelector"], pod["metadata"]["labels"])
    assert selects(spec["selector"], pod["metadata"]["labels"])


def test_the_api_probes_the_health_endpoints_on_its_port() -> None:
    container = api_container()
    routes = {getattr(route, "path", None) for route in operations_router.routes}
    listens = int(option(container["args"], "--port"))
    assert container_port(container, "http") == listens
    expected = {"readinessProbe": "/readyz", "livenessProbe": "/healthz", "startupProbe": None}
    for probe_name, path in expected.items():
        probe = container[probe_name]["httpGet"]
        assert probe["path"] in routes
        assert container_port(container, probe["port"]) == listens
        if path is not None:
            assert probe["path"] == path, probe_name


def test_the_service_reaches_the_api_port() -> None:
    (service,) = of_kind("Service")
    selector = {"matchLabels": service["spec"]["selector"]}
    assert matched_pods(selector) == [pod_template(api())["metadata"]["labels"]]
    for port in service["spec"]["ports"]:
        assert container_port(api_container(), port["targetPort"]) == 8000


def test_a_disruption_budget_keeps_an_api_pod() -> None:
    budgets = [
        pdb
        for pdb in of_kind("PodDisruptionBudget")
        if selects(pdb["spec"]["selector"], pod_template(api())["metadata"]["labels"])
    ]
    assert budgets, "no PodDisruptionBudget selects the API pods"
    assert all(pdb["spec"].get("minAvailable", 0) >= 1 for pdb in budgets)


@pytest.mark.parametrize("workload", workloads(), ids=workload_id)
def test_every_container_is_hardened(workload: Doc) -> None:
    pod = pod_template(workload)["spec"]
    pod_security = pod.get("securityContext", {})
    assert pod.get("automountServiceAccountToken") is False
    account = one("ServiceAccount", pod["serviceAccountName"])
    assert account["automountServiceAccountToken"] is False
    tmp_volumes = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
    for container in containers(pod_template(workload)):
        security = container.get("securityContext", {})
        non_root = security.get("runAsNonRoot", pod_security.get("runAsNonRoot"))
        user = security.get("runAsUser", pod_security.get("runAsUser"))
        assert non_root is True, container["name"]
        assert user is None or user > 0
        assert security.get("readOnlyRootFilesystem") is True, container["name"]
        assert security.get("allowPrivilegeEscalation") is False, container["name"]
        assert security.get("privileged", False) is False
        assert "ALL" in security.get("capabilities", {}).get("drop", [])
        assert not security.get("capabilities", {}).get("add")
        seccomp = security.get("seccompProfile", pod_security.get("seccompProfile", {}))
        assert seccomp.get("type") == "RuntimeDefault"
        # The one writable place: /tmp, from an emptyDir.
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        assert mounts.get("/tmp") in tmp_volumes, container["name"]
        assert container.get("resources", {}).get("limits", {}).get("memory")


@pytest.mark.parametrize("workload", workloads(), ids=workload_id)
def test_every_container_runs_a_real_askel_command(workload: Doc) -> None:
    for container in containers(pod_template(workload)):
        assert "command" not in container, "the image's entrypoint is askel"
        askel_command(container["args"])


def effective_env(container: Doc) -> dict[str, str | None]:
    """What the container's environment holds: ConfigMap values, then `env` on top (None:
    from a Secret)."""
    env: dict[str, str | None] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(one("ConfigMap", source["configMapRef"]["name"])["data"])
    for variable in container.get("env", []):
        env[variable["name"]] = variable.get("value")
    return env


def test_the_migration_job_runs_db_upgrade_and_nothing_migrates_on_start() -> None:
    (job,) = of_kind("Job")
    (container,) = containers(pod_template(job))
    assert askel_command(container["args"]) == "db upgrade"
    assert pod_template(job)["spec"]["restartPolicy"] in ("Never", "OnFailure")
    for workload in workloads():
        for container in containers(pod_template(workload)):
            env = effective_env(container)
            assert env.get("ASKEL_MIGRATE_ON_START") == "false", workload_id(workload)
            assert env.get("ASKEL_SEED_DEMO_DATA") == "false", workload_id(workload)
            assert env.get("ASKEL_ENVIRONMENT") == "production", workload_id(workload)


def test_slots_are_materialised_on_a_schedule_like_the_systemd_timer() -> None:
    commands = {
        askel_command(containers(pod_template(cron))[0]["args"]): cron
        for cron in of_kind("CronJob")
    }
    assert "slots materialise" in commands
    assert commands["slots materialise"]["spec"]["concurrencyPolicy"] == "Forbid"
    timer = systemd_unit(SYSTEMD / "askel-materialise.timer")
    assert timer["Timer"]["OnCalendar"].split()[1] == "02:30:00"
    minute, hour = commands["slots materialise"]["spec"]["schedule"].split()[:2]
    assert (hour, minute) == ("2", "30")


def test_every_env_reference_names_an_existing_key() -> None:
    secrets = secret_examples()
    # The operator makes `<cluster>-ca` with the cluster's CA certificate.
    secrets[f"{cnpg_cluster()['metadata']['name']}-ca"] = {"ca.crt": "", "ca.key": ""}
    config_maps = {doc["metadata"]["name"]: doc["data"] for doc in of_kind("ConfigMap")}
    checked = 0
    for workload in workloads():
        pod = pod_template(workload)
        for container in containers(pod):
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in config_maps
                if "secretRef" in source:
                    assert source["secretRef"]["name"] in secrets
            for variable in container.get("env", []):
                reference = variable.get("valueFrom", {})
                if "secretKeyRef" in reference:
                    ref, keys = reference["secretKeyRef"], secrets
                elif "configMapKeyRef" in reference:
                    ref, keys = reference["configMapKeyRef"], config_maps
                else:
                    continue
                assert ref["key"] in keys.get(ref["name"], {}), f"{ref} in {workload_id(workload)}"
                checked += 1
        for volume in pod["spec"].get("volumes", []):
            if "secret" in volume:
                secret = volume["secret"]
                assert secret["secretName"] in secrets, volume["name"]
                for item in secret.get("items", []):
                    assert item["key"] in secrets[secret["secretName"]], item
    assert checked > 0


def test_env_names_in_the_manifests_are_askel_settings() -> None:
    names = set(config_map()) | set(secret_examples()["askel"])
    for workload in workloads():
        for container in containers(pod_template(workload)):
            names |= {variable["name"] for variable in container.get("env", [])}
    unknown = names - setting_names()
    assert not unknown, f"not settings of app/config.py: {sorted(unknown)}"
    assert not (set(config_map()) & secret_setting_names()), "secrets belong in the Secret"


def test_the_configuration_passes_the_production_checks() -> None:
    """The ConfigMap with the example Secret's values is a configuration production accepts."""
    values = {**config_map(), **secret_examples()["askel"]}
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        **{name.removeprefix("ASKEL_").lower(): value for name, value in values.items()},
    )
    assert settings.environment == "production"
    assert not settings.dev_issuer_on
    assert not settings.migrate_on_start
    assert settings.oidc_issuers
    assert settings.notice_channel == "http", "the pods have no writable file for notices"
    assert str(settings.fhir_client_key_file).startswith("/etc/askel/fhir/")
    (worker,) = [w for w in of_kind("Deployment") if w["metadata"]["name"] == "askel-worker"]
    mounts = [m["mountPath"] for m in containers(pod_template(worker))[0]["volumeMounts"]]
    assert str(settings.fhir_client_key_file.parent) in mounts


def test_the_database_url_points_at_the_cluster() -> None:
    cluster = cnpg_cluster()
    url = make_url(secret_examples()["askel"]["ASKEL_DATABASE_URL"])
    initdb = cluster["spec"]["bootstrap"]["initdb"]
    assert url.drivername == "postgresql+psycopg"
    assert url.host == f"{cluster['metadata']['name']}-rw.{NAMESPACE}.svc"
    assert (url.database, url.username) == (initdb["database"], initdb["owner"])
    assert url.query["sslmode"] == "verify-full"
    owner = secret_examples()[initdb["secret"]["name"]]
    assert owner["username"] == initdb["owner"]
    ca = str(url.query["sslrootcert"])
    mounts = [m["mountPath"] for m in api_container()["volumeMounts"]]
    assert str(Path(ca).parent) in mounts


def test_network_policies_deny_by_default() -> None:
    policies = of_kind("NetworkPolicy")
    deny = [p for p in policies if p["spec"]["podSelector"] == {}]
    assert any(
        set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
        for p in deny
    )


def peers(policy: Doc) -> Iterator[Doc]:
    for rule in policy["spec"].get("ingress", []):
        yield from rule.get("from", [])
    for rule in policy["spec"].get("egress", []):
        yield from rule.get("to", [])


@pytest.mark.parametrize("policy", of_kind("NetworkPolicy"), ids=lambda p: p["metadata"]["name"])
def test_network_policies_select_pods_that_exist(policy: Doc) -> None:
    selector = policy["spec"]["podSelector"]
    if selector:
        assert matched_pods(selector), "the policy selects no pod"
    for peer in peers(policy):
        if "podSelector" in peer and "namespaceSelector" not in peer:
            assert matched_pods(peer["podSelector"]), f"no pod in the namespace is {peer}"


def allowed(policies: list[Doc], direction: str, pod: dict[str, str], port: int) -> list[Doc]:
    """The rules of the policies selecting `pod` that allow `port` in `direction`."""
    rules = []
    for policy in policies:
        if not selects(policy["spec"]["podSelector"], pod):
            continue
        for rule in policy["spec"].get(direction, []):
            ports = [p.get("port") for p in rule.get("ports", [])]
            if not ports or port in ports:
                rules.append(rule)
    return rules


def test_network_policies_let_the_service_work() -> None:
    policies = of_kind("NetworkPolicy")
    api_pod = pod_template(api())["metadata"]["labels"]
    database = {"cnpg.io/cluster": cnpg_cluster()["metadata"]["name"]}
    assert allowed(policies, "ingress", api_pod, container_port(api_container(), "http"))
    for workload in workloads():
        pod = pod_template(workload)["metadata"]["labels"]
        to_database = [
            rule
            for rule in allowed(policies, "egress", pod, 5432)
            for peer in rule.get("to", [])
            if selects(peer.get("podSelector", {"matchLabels": {"-": "-"}}), database)
        ]
        assert to_database, f"{workload_id(workload)} cannot reach PostgreSQL"
        assert allowed(policies, "egress", pod, 53), f"{workload_id(workload)} has no DNS"
    assert allowed(policies, "ingress", database, 5432)


# CloudNativePG --------------------------------------------------------------------------------


def test_the_database_cluster_is_replicated_and_backed_up() -> None:
    cluster = cnpg_cluster()
    spec = cluster["spec"]
    assert spec["instances"] >= 2
    assert spec["affinity"]["enablePodAntiAffinity"] is True
    assert re.search(r"postgresql:1[56]\b", spec["imageName"])
    assert spec["bootstrap"]["initdb"]["database"] == "askel"
    assert spec["bootstrap"]["initdb"]["owner"] == "askel"
    backup = spec["backup"]
    assert re.fullmatch(r"\d+[dwm]", backup["retentionPolicy"])
    store = backup["barmanObjectStore"]
    assert store["destinationPath"].startswith("s3://")
    assert store["wal"]["compression"]
    assert store["data"]["compression"]
    secrets = secret_examples()
    for credential in store["s3Credentials"].values():
        assert credential["key"] in secrets[credential["name"]]


def test_a_scheduled_backup_references_the_cluster() -> None:
    (scheduled,) = of_kind("ScheduledBackup")
    spec = scheduled["spec"]
    assert spec["cluster"]["name"] == cnpg_cluster()["metadata"]["name"]
    # CloudNativePG's schedule has a seconds field: six fields, not cron's five.
    assert len(spec["schedule"].split()) == 6
    assert spec.get("method", "barmanObjectStore") == "barmanObjectStore"


# The container image --------------------------------------------------------------------------


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    assert not pending, "a continuation line ends the file"
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for instruction, arguments in instructions(CONTAINERFILE):
        if instruction == "FROM":
            found.append([])
        if found:
            found[-1].append((instruction, arguments))
    return found


def copies() -> list[tuple[list[str], list[str]]]:
    """(flags, paths) of every COPY: the paths' last one is the destination."""
    result = []
    for stage in stages():
        for instruction, arguments in stage:
            if instruction == "COPY":
                words = shlex.split(arguments)
                flags = [w for w in words if w.startswith("--")]
                result.append((flags, [w for w in words if not w.startswith("--")]))
    return result


def test_the_image_is_built_in_stages_and_runs_as_a_numeric_non_root_user() -> None:
    built = stages()
    assert len(built) >= 2
    names = [shlex.split(stage[0][1])[-1] for stage in built if " AS " in stage[0][1].upper()]
    users = [arguments for instruction, arguments in built[-1] if instruction == "USER"]
    assert users, "the final stage names its user"
    match = re.fullmatch(r"(\d+)(?::(\d+))?", users[-1].strip())
    assert match, "USER must be numeric (UID[:GID]) so that runAsNonRoot can check it"
    assert int(match.group(1)) != 0
    assert int(match.group(2) or 1) != 0
    workloads_uid = pod_template(api())["spec"]["securityContext"]["runAsUser"]
    assert int(match.group(1)) == workloads_uid
    for flags, _ in copies():
        for flag in flags:
            if flag.startswith("--from="):
                assert flag.removeprefix("--from=") in names


def test_the_image_copies_paths_that_exist_and_all_the_app_reads() -> None:
    sources = []
    for flags, paths in copies():
        if any(flag.startswith("--from=") for flag in flags):
            continue
        for source in paths[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: no such path in the repository"
            sources.append(Path(source.rstrip("/")))
    assert Path("pyproject.toml") in sources
    # The code finds these beside the package, at run time.
    for needed in (ROOT / "app", MIGRATIONS_DIR, MAPPINGS_DIR):
        assert needed.relative_to(ROOT) in sources, needed
    # BuildKit's ignore file for this Containerfile lets every copied path through.
    allowed_through = {
        line[1:].strip().rstrip("/")
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.startswith("!")
    }
    assert {str(source) for source in sources} <= allowed_through


def test_the_image_serves_on_the_port_the_manifests_probe() -> None:
    final = stages()[-1]
    found = dict(final)
    assert json.loads(found["ENTRYPOINT"]) == ["askel"]
    command = json.loads(found["CMD"])
    assert askel_command(command) == "serve"
    assert int(option(command, "--port")) == container_port(api_container(), "http")
    assert option(command, "--host") == "0.0.0.0"
    assert "8000" in found["EXPOSE"].split()
    assert not any(instruction == "HEALTHCHECK" for instruction, _ in final)


def test_the_image_bakes_in_no_secret() -> None:
    names = set()
    for instruction, arguments in instructions(CONTAINERFILE):
        if instruction in ("ENV", "ARG"):
            names |= set(re.findall(r"(?:^|\s)([A-Z_][A-Z0-9_]*)=", arguments))
    askel = {name for name in names if name.startswith("ASKEL_")}
    assert askel <= setting_names()
    assert not (askel & secret_setting_names())
    assert not {n for n in names if re.search(r"PASSWORD|SECRET|TOKEN|_KEY$", n)}


# systemd -------------------------------------------------------------------------------------


def systemd_unit(path: Path) -> configparser.ConfigParser:
    # Units may repeat a key (Environment=); the last one wins here, which is enough.
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(), source=str(path))
    return parser


UNITS = sorted(SYSTEMD.glob("*.service")) + sorted(SYSTEMD.glob("*.timer"))


def test_there_are_systemd_units() -> None:
    assert {path.name for path in UNITS} >= {"askel.service", "askel-worker.service"}


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_systemd_units_parse_and_run_real_commands(path: Path) -> None:
    unit = systemd_unit(path)
    assert unit.has_section("Unit")
    if path.suffix == ".timer":
        assert unit["Timer"].get("OnCalendar")
        service = unit["Timer"].get("Unit", path.with_suffix(".service").name)
        assert (SYSTEMD / service).exists()
        return
    service = unit["Service"]
    assert service.get("User") not in (None, "", "root", "0")
    assert service.get("NoNewPrivileges") == "true"
    for key in ("ExecStartPre", "ExecStart"):
        if key not in service:
            continue
        argv = shlex.split(service[key].lstrip("-+!@:"))
        assert Path(argv[0]).name == "askel", f"{key} runs {argv[0]}"
        askel_command(argv[1:])
    for assignment in shlex.split(service.get("Environment", "")):
        assert assignment.split("=", 1)[0] in setting_names()
