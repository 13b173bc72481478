#!/usr/bin/env python3
"""The agents lane of `make test`: the real agent CLIs under their built-in sbx profiles.

Installs pinned Claude Code (the native binary inside the claude-agent-sdk package), Codex
(openai-codex-cli-bin) and aider (aider-chat) into venvs under DIR (default .build/agents/,
kept between runs), makes a test CA, and starts fake_api.py on a loopback address, port 443.
Every host the agent profiles allow, and the registries of the toolchain profiles they build
on, is mapped to it with --add-host: nothing leaves loopback. Each agent runs with a throwaway
HOME holding fake secrets and a fake configuration of its own.

Prints one line per check, "agents: PASS|FAIL|SKIPPED <agent>: <what>", and a summary.
Exit status: 1 when a check failed, else 0 (skips are listed by scripts/test).

    lane.py --sbx PATH [--dir DIR] [--only claude-code,codex,aider]
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from terminal import Terminal  # noqa: E402

ANSWER = "SBX-FAKE-ANSWER-7f3a"
# What each agent is installed from, pinned; the executable inside the venv.
AGENTS = {
    "claude-code": ("claude-agent-sdk==0.2.189", "lib/python3.11/site-packages/claude_agent_sdk/_bundled/claude"),
    "codex": ("openai-codex-cli-bin==0.163.0", "lib/python3.11/site-packages/codex_cli_bin/bin/codex"),
    "aider": ("aider-chat==0.86.2", "bin/aider"),
}
# Every host the agent profiles allow, and the registries named below: all go to the fake.
MAPPED_HOSTS = [
    "api.anthropic.com", "claude.ai", "platform.claude.com", "console.anthropic.com", "statsig.anthropic.com",
    "api.openai.com", "chatgpt.com", "auth.openai.com",
    "generativelanguage.googleapis.com", "api.deepseek.com", "openrouter.ai",
    "npm.sbx-test.invalid", "pypi.sbx-test.invalid",
]
# The toolchain profiles' ${tool:...} entries resolve to these (never a real registry).
REGISTRY_ENV = {"NPM_CONFIG_REGISTRY": "https://npm.sbx-test.invalid/",
                "PIP_INDEX_URL": "https://pypi.sbx-test.invalid/simple"}
SECRETS = {".aws/credentials": "aws_secret_access_key = SBX-SECRET-AWS\n",
           ".ssh/id_ed25519": "SBX-SECRET-SSH\n",
           ".config/gh/hosts.yml": "oauth_token: SBX-SECRET-GH\n"}


class Skip(Exception):
    pass


class Lane:
    def __init__(self, sbx, directory):
        self.sbx = sbx
        self.directory = directory
        self.results = []
        self.binaries = {}
        self.address = None
        self.fake = None
        self.log = None

    # --- reporting ---------------------------------------------------------------------------

    def report(self, verdict, agent, what, detail=""):
        line = f"agents: {verdict} {agent}: {what}" + (f" ({detail})" if detail else "")
        print(line, flush=True)
        self.results.append(verdict)

    def check(self, agent, what, function):
        started = time.monotonic()
        try:
            function()
        except Skip as skip:
            self.report("SKIPPED", agent, what, str(skip))
        except AssertionError as failure:
            self.report("FAIL", agent, what, str(failure))
        except Exception:  # a broken check is a failure, with its traceback
            self.report("FAIL", agent, what, traceback.format_exc().strip().replace("\n", " | ")[-600:])
        else:
            self.report("PASS", agent, what, f"{time.monotonic() - started:.1f} s")

    # --- set-up ------------------------------------------------------------------------------

    def install(self, agent):
        """The agent's executable, from a venv under the lane's directory (installed once per pin)."""
        requirement, relative = AGENTS[agent]
        venv = os.path.join(self.directory, "venv-" + agent)
        marker = os.path.join(venv, ".sbx-pinned")
        executable = os.path.join(venv, relative)
        if os.path.exists(marker) and open(marker).read() == requirement and os.access(executable, os.X_OK):
            return executable
        shutil.rmtree(venv, ignore_errors=True)
        environment = dict(os.environ, PIP_CACHE_DIR=os.path.join(self.directory, "pip-cache"),
                           PIP_DISABLE_PIP_VERSION_CHECK="1")
        steps = [[sys.executable, "-m", "venv", venv], [os.path.join(venv, "bin", "pip"), "install", "-q", requirement]]
        for step in steps:
            done = subprocess.run(step, env=environment, capture_output=True, text=True, timeout=1800)
            if done.returncode != 0:
                raise Skip(f"cannot install {requirement}: " + (done.stderr.strip().splitlines() or ["?"])[-1])
        if not os.access(executable, os.X_OK):
            raise Skip(f"{requirement} installed, but it has no {relative}")
        open(marker, "w").write(requirement)
        return executable

    def make_ca(self):
        """A test CA and a server certificate for every mapped host, new for each run."""
        ca = os.path.join(self.directory, "ca")
        shutil.rmtree(ca, ignore_errors=True)
        os.makedirs(ca)

        def openssl(*arguments):
            subprocess.run(["openssl", *arguments], cwd=ca, check=True, capture_output=True)
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                "-subj", "/CN=sbx agents lane test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
                "-subj", "/CN=" + MAPPED_HOSTS[0])
        with open(os.path.join(ca, "server.ext"), "w") as ext:
            ext.write("subjectAltName=" + ",".join("DNS:" + host for host in MAPPED_HOSTS) + "\n"
                      "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n")
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "server.pem", "-days", "2", "-extfile", "server.ext")
        return ca

    def start_fake(self, ca):
        """fake_api.py on a random 127.x.y.z, port 443 (where the agents' URLs point)."""
        for _ in range(5):
            address = f"127.{random.randint(1, 254)}.{random.randint(0, 254)}.{random.randint(2, 254)}"
            self.log = os.path.join(self.directory, f"fake-api-{address}.log")
            open(self.log, "w").close()
            process = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_api.py"), address, "443",
                                        os.path.join(ca, "server.pem"), os.path.join(ca, "server.key"), self.log],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            line = process.stdout.readline()
            if line.strip() == "ready":
                self.fake, self.address = process, address
                return
            error = process.stderr.read()
            process.wait()
            if "Permission denied" in error:
                raise Skip("the fake API must listen on port 443 (the agents' URLs name no port): run as root")
        raise Skip("the fake API could not listen on a loopback address, port 443")

    def requests(self):
        """What the fake has been asked since the log was last cleared."""
        with open(self.log) as log:
            return [json.loads(line) for line in log if line.strip()]

    def clear_requests(self):
        open(self.log, "w").close()

    # --- running an agent --------------------------------------------------------------------

    def new_home(self, agent):
        """A throwaway HOME with fake secrets of other tools, and a project (a git repository)."""
        # Not under /tmp: Codex refuses to put its helpers in a temporary directory.
        homes = os.path.join(self.directory, "homes")
        os.makedirs(homes, exist_ok=True)
        root = tempfile.mkdtemp(prefix=agent + "-", dir=homes)
        home, project = os.path.join(root, "home"), os.path.join(root, "project")
        for relative, text in SECRETS.items():
            write(os.path.join(home, relative), text)
        os.makedirs(project)
        git(project, "init", "-q")
        return root, home, project

    def environment(self, home, extra=None):
        environment = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "TERM": "xterm-256color",
                       "LANG": "C.UTF-8", **REGISTRY_ENV}
        environment.update(extra or {})
        return environment

    def sbx_run(self, profile, command, home, project, environment=None, flags=(), timeout=180):
        """`sbx run --profile PROFILE` with every mapped host sent to the fake; (status, output)."""
        argv = [self.sbx, "run", "--profile", profile]
        for host in MAPPED_HOSTS:
            argv += ["--add-host", f"{host}={self.address}"]
        argv += list(flags) + ["--"] + command
        done = subprocess.run(argv, cwd=project, env=self.environment(home, environment), capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        return done.returncode, done.stdout + done.stderr

    def sbx_terminal(self, profile, command, home, project, environment=None, flags=()):
        argv = [self.sbx, "run", "--profile", profile]
        for host in MAPPED_HOSTS:
            argv += ["--add-host", f"{host}={self.address}"]
        return Terminal(argv + list(flags) + ["--"] + command, self.environment(home, environment), project)


def write(path, text, mode=0o600):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as file:
        file.write(text)
    os.chmod(path, mode)


def read(path):
    try:
        with open(path) as file:
            return file.read()
    except FileNotFoundError:
        return None


def git(project, *arguments):
    subprocess.run(["git", "-C", project, *arguments], check=True, capture_output=True)


def shown(output, limit=400):
    return output.strip().replace("\n", " | ")[-limit:]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sbx", required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--only", default=",".join(AGENTS))
    arguments = parser.parse_args()
    os.makedirs(arguments.dir, exist_ok=True)
    lane = Lane(os.path.abspath(arguments.sbx), os.path.abspath(arguments.dir))
    import agent_checks
    try:
        try:
            lane.start_fake(lane.make_ca())
        except Skip as skip:
            lane.report("SKIPPED", "all agents", "every check", str(skip))
            return 0
        for agent in arguments.only.split(","):
            try:
                lane.binaries[agent] = lane.install(agent)
            except Skip as skip:
                lane.report("SKIPPED", agent, "every check", str(skip))
                continue
            getattr(agent_checks, agent.replace("-", "_"))(lane)
    finally:
        if lane.fake:
            lane.fake.terminate()
            lane.fake.wait()
            os.unlink(lane.log)
    counts = {verdict: lane.results.count(verdict) for verdict in ("PASS", "FAIL", "SKIPPED")}
    print(f"agents: {counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIPPED']} skipped", flush=True)
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
