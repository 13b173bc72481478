"""The checks of the agents lane, one function per agent (lane.py runs them).

Each agent: its version; a prompt without a terminal that reaches the fake API and prints its
answer; an interactive start in a pseudo-terminal that gets past the first-run prompts, then
a second one that finds them answered (state kept across runs); what a run writes into the
agent's configuration (an MCP server, a hook, a notify command) stays out of the host's, with
a control that the same change outside the sandbox does reach it; other tools' secrets hidden.
"""
import json
import os
import re
import shutil
import subprocess

from lane import ANSWER, SECRETS, Skip, read, shown, write

# The answer streamed by the fake, as a terminal shows it (a TUI may wrap or space it).
ANSWER_ON_SCREEN = r"SBX-FAKE-ANSWER-7f3a"


def two_starts(lane, agent, argv, home, project, environment, flags, prompts, ready):
    """An interactive agent started twice in a pty: the first start's prompts are answered and a
    message must get an answer on screen; returns the prompts each start asked."""
    terminal = lane.sbx_terminal(agent, argv, home, project, environment, flags)
    try:
        first = drive(terminal, prompts, ready, 90)
        mark = len(terminal.text())
        terminal.send("say hello")
        terminal.read(0.5)
        terminal.send("\r")
        assert terminal.wait_for(ANSWER_ON_SCREEN, 60, since=mark), f"no answer on screen: {shown(terminal.text()[mark:], 700)}"
    finally:
        terminal.close()
    terminal = lane.sbx_terminal(agent, argv, home, project, environment, flags)
    try:
        second = drive(terminal, prompts, ready, 60)
    finally:
        terminal.close()
    return first, second


def drive(terminal, prompts, ready, seconds):
    """Answers first-run `prompts` ((name, regex, keys), in any order, each once) until `ready`
    shows; the names of the prompts seen. Fails with the screen when `ready` never shows."""
    seen, offset = [], 0
    remaining = list(prompts)
    deadline_reads = int(seconds / 0.5)
    for _ in range(deadline_reads):
        terminal.read(0.5)
        text = terminal.text()[offset:]
        for prompt in remaining:
            name, pattern, keys = prompt
            if re.search(pattern, text):
                terminal.read(0.7)  # let the dialog finish drawing before answering
                # What is drawn from here on is looked at next: the answer may bring the next prompt at once.
                offset = len(terminal.text())
                for key in keys:
                    terminal.send(key)
                    terminal.read(0.4)
                seen.append(name)
                remaining.remove(prompt)
                break
        else:
            if re.search(ready, text):
                return seen
        if terminal.process.poll() is not None:
            break
    raise AssertionError(f"never ready ({ready}); prompts answered: {seen}; screen: {shown(terminal.text(), 700)}")


def secrets_hidden(lane, profile, home, project, extra_paths=()):
    """Other tools' secrets in the throwaway HOME are not readable inside; control: they are outside."""
    paths = [os.path.join(home, relative) for relative in SECRETS] + list(extra_paths)
    for path in paths:
        assert read(path), f"control: {path} should be readable outside"
    script = "for f in \"$@\"; do cat \"$f\" 2>/dev/null; done; echo done"
    status, output = lane.sbx_run(profile, ["/bin/sh", "-c", script, "sh", *paths], home, project)
    assert status == 0 and "done" in output, f"status {status}: {shown(output)}"
    leaked = [marker for marker in ("SBX-SECRET-AWS", "SBX-SECRET-SSH", "SBX-SECRET-GH", "SBX-SECRET-OTHER") if marker in output]
    assert not leaked, f"readable inside: {leaked}"


def outside_environment(lane, home):
    """For the controls run outside the sandbox: no proxy of sbx's there, so every proxy
    variable points at a closed loopback port and the agents' optional traffic is off;
    whatever they might try to reach stays on loopback."""
    closed = "http://127.0.0.1:9"
    return dict(lane.environment(home), HTTPS_PROXY=closed, HTTP_PROXY=closed, ALL_PROXY=closed,
                https_proxy=closed, http_proxy=closed, all_proxy=closed, NO_PROXY="", no_proxy="",
                DISABLE_TELEMETRY="1", DISABLE_ERROR_REPORTING="1", DISABLE_AUTOUPDATER="1",
                CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1")


def agent_directory(home, name):
    return os.path.join(home, ".local/state/sbx/agents", name)


# --- Claude Code ---------------------------------------------------------------------------

CLAUDE_PROMPTS = [
    ("theme", r"Choose the text style", ["\r"]),
    ("api key", r"Do you want to use this API key", ["\x1b[A", "\r"]),
    ("security notes", r"Security notes", ["\r"]),
    ("terminal setup", r"terminal setup", ["\r"]),
    ("trust", r"Yes, I trust this folder|Do you trust the files", ["\x1b[B", "\r"]),  # "No, exit" is first
]
CLAUDE_READY = r"for shortcuts|Try \""


def claude_code(lane):
    agent, claude = "claude-code", lane.binaries["claude-code"]
    root, home, project = lane.new_home(agent)
    ca = os.path.join(lane.directory, "ca", "ca.pem")
    environment = {"ANTHROPIC_API_KEY": "sk-ant-sbx-fake-key", "NODE_EXTRA_CA_CERTS": ca}
    flags = ["--env", "NODE_EXTRA_CA_CERTS"]
    # The host's own configuration, as a user who ran claude outside has it.
    host_state = os.path.join(home, ".claude.json")
    host_settings = os.path.join(home, ".claude", "settings.json")
    write(host_state, json.dumps({"numStartups": 3, "sbxSeedMarker": "SBX-SEED-STATE", "mcpServers": {}}))
    write(host_settings, json.dumps({"env": {"SBX_SEEDED_SETTING": "1"}}))
    write(os.path.join(home, ".claude", "CLAUDE.md"), "SBX-USER-MEMORY\n")
    write(os.path.join(home, ".claude", "commands", "sbx-hello.md"), "SBX-USER-COMMAND\n")
    write(os.path.join(home, ".codex", "auth.json"), '{"OPENAI_API_KEY": "SBX-SECRET-OTHER"}')
    before = (read(host_state), read(host_settings))
    state = agent_directory(home, agent)

    def version():
        status, output = lane.sbx_run(agent, [claude, "--version"], home, project, environment, flags)
        assert status == 0 and "Claude Code" in output, f"status {status}: {shown(output)}"

    def prompt():
        lane.clear_requests()
        status, output = lane.sbx_run(agent, [claude, "-p", "say hello"], home, project, environment, flags)
        assert status == 0 and ANSWER in output, f"status {status}: {shown(output)}"
        asked = [r for r in lane.requests() if r["method"] == "POST" and r["path"].startswith("/v1/messages")]
        assert asked, f"the fake API got no /v1/messages: {lane.requests()[:5]}"
        assert asked[-1]["credential_tail"].endswith("fake-key"), f"credential: {asked[-1]}"

    def seeded():
        copy = read(os.path.join(state, ".claude.json")) or ""
        assert "SBX-SEED-STATE" in copy, f"the sandbox's .claude.json was not seeded from the host's: {copy[:300]}"
        status, output = lane.sbx_run(agent, ["/bin/sh", "-c", 'cat "$CLAUDE_CONFIG_DIR/CLAUDE.md" "$CLAUDE_CONFIG_DIR/settings.json"'],
                                      home, project, environment, flags)
        assert "SBX-USER-MEMORY" in output and "SBX_SEEDED_SETTING" in output, f"not seen inside: {shown(output)}"
        # The user's commands are linked in, read-only.
        script = 'cat "$CLAUDE_CONFIG_DIR/commands/sbx-hello.md"; echo x > "$CLAUDE_CONFIG_DIR/commands/planted.md" || echo REFUSED'
        status, output = lane.sbx_run(agent, ["/bin/sh", "-c", script], home, project, environment, flags)
        assert "SBX-USER-COMMAND" in output and "REFUSED" in output, f"commands: {shown(output)}"
        assert not os.path.exists(os.path.join(home, ".claude", "commands", "planted.md")), "planted into ~/.claude/commands"

    def interactive():
        # Onboarding (theme, API key, trust) answered as a user would, then nothing asked again.
        first, second = two_starts(lane, agent, [claude], home, project, environment, flags, CLAUDE_PROMPTS, CLAUDE_READY)
        assert "theme" in first, f"the first start asked no onboarding question: {first}"
        assert not second, f"asked again on the second start: {second} (first: {first})"
        kept = json.loads(read(os.path.join(state, ".claude.json")))
        assert kept.get("hasCompletedOnboarding"), "hasCompletedOnboarding not kept"
        assert read(host_state) == before[0], "the host's ~/.claude.json changed"

    def plants_stay_inside():
        # `claude mcp add` (user scope) and a hook written into settings.json, inside.
        add = [claude, "mcp", "add", "--scope", "user", "sbx-planted", "--", "/bin/touch", os.path.join(root, "PWNED")]
        status, output = lane.sbx_run(agent, add, home, project, environment, flags)
        assert status == 0, f"claude mcp add inside failed, status {status}: {shown(output)}"
        hook = ('printf \'{"hooks":{"SessionStart":[{"hooks":[{"type":"command","command":"touch PWNED"}]}]}}\' '
                '> "$CLAUDE_CONFIG_DIR/settings.json"; echo x >> "$HOME/.claude.json"; echo x >> "$HOME/.claude/settings.json"; true')
        lane.sbx_run(agent, ["/bin/sh", "-c", hook], home, project, environment, flags)
        inside = read(os.path.join(state, ".claude.json")) or ""
        assert "sbx-planted" in inside, "control: the MCP server was not written to the sandbox's own copy"
        assert "touch PWNED" in (read(os.path.join(state, "settings.json")) or ""), "control: the hook was not written inside"
        assert (read(host_state), read(host_settings)) == before, "the host's ~/.claude.json or settings.json changed"
        # Control: the same command outside the sandbox does change the host's configuration.
        outside = subprocess.run(add, cwd=project, env=outside_environment(lane, home), capture_output=True, text=True, timeout=120)
        assert "sbx-planted" in (read(host_state) or ""), f"control outside failed: {shown(outside.stdout + outside.stderr)}"
        write(host_state, before[0])

    lane.check(agent, "--version", version)
    lane.check(agent, "a prompt without a terminal reaches the fake API and prints its answer", prompt)
    lane.check(agent, "its configuration directory is seeded from the host's, its commands linked in read-only", seeded)
    lane.check(agent, "interactive: past onboarding and trust, an answer; a second start asks nothing", interactive)
    lane.check(agent, "an MCP server and a hook added inside stay out of the host's configuration (control: outside they land)", plants_stay_inside)
    lane.check(agent, "other tools' secrets are hidden", lambda: secrets_hidden(lane, agent, home, project,
                                                                              [os.path.join(home, ".codex", "auth.json")]))
    shutil.rmtree(root, ignore_errors=True)


# --- Codex ---------------------------------------------------------------------------------

CODEX_PROMPTS = [
    ("trust", r"Trust this folder\?|Do you trust", ["\r"]),  # "1. Trust and continue" is first
    ("sign in", r"Sign in with ChatGPT", ["3", "\r"]),
    ("update", r"Update available", ["\x1b"]),
]
# The status line with the model: drawn once the start-up dialogs are gone (the prompt box
# is drawn before them, behind the trust dialog).
CODEX_READY = r"default\s+·"


def codex(lane):
    agent, codex_binary = "codex", lane.binaries["codex"]
    root, home, project = lane.new_home(agent)
    ca = os.path.join(lane.directory, "ca", "ca.pem")
    environment = {"SSL_CERT_FILE": ca}
    flags = ["--env", "SSL_CERT_FILE"]
    # Logged in outside with an API key (auth.json), with a config.toml of the user's own.
    host_config = os.path.join(home, ".codex", "config.toml")
    write(host_config, "# SBX-SEED-CONFIG\n")
    write(os.path.join(home, ".codex", "auth.json"), json.dumps({"auth_mode": "apikey", "OPENAI_API_KEY": "sk-sbx-from-auth-json"}))
    write(os.path.join(home, ".claude", ".credentials.json"), '{"claudeAiOauth": "SBX-SECRET-OTHER"}')
    before = read(host_config)
    state = agent_directory(home, agent)

    def version():
        status, output = lane.sbx_run(agent, [codex_binary, "--version"], home, project, environment, flags)
        assert status == 0 and "codex" in output, f"status {status}: {shown(output)}"

    def prompt():
        lane.clear_requests()
        status, output = lane.sbx_run(agent, [codex_binary, "exec", "say hello"], home, project, environment, flags)
        assert status == 0 and ANSWER in output, f"status {status}: {shown(output)}"
        asked = [r for r in lane.requests() if r["method"] == "POST" and r["path"].endswith("/responses")]
        assert asked, f"the fake API got no POST /v1/responses: {lane.requests()[:5]}"
        assert asked[-1]["credential_tail"].endswith("sbx-from-auth-json"[-16:]), f"not the login copied from the host: {asked[-1]}"

    def interactive():
        first, second = two_starts(lane, agent, [codex_binary], home, project, environment, flags, CODEX_PROMPTS, CODEX_READY)
        assert "trust" in first, f"the first start did not ask to trust the project: {first}"
        assert "trust" not in second, f"asked to trust the project again: {second}"
        assert project in (read(os.path.join(state, "config.toml")) or ""), "the trust was not written to the sandbox's config.toml"
        assert read(host_config) == before, "the host's config.toml changed"

    def plants_stay_inside():
        add = [codex_binary, "mcp", "add", "sbx-planted", "--", "/bin/touch", os.path.join(root, "PWNED")]
        status, output = lane.sbx_run(agent, add, home, project, environment, flags)
        assert status == 0, f"codex mcp add inside failed, status {status}: {shown(output)}"
        notify = ('printf \'notify = ["/bin/touch", "PWNED"]\\n\' >> "$CODEX_HOME/config.toml"; '
                  'echo \'notify = ["x"]\' >> "$HOME/.codex/config.toml"; true')
        lane.sbx_run(agent, ["/bin/sh", "-c", notify], home, project, environment, flags)
        inside = read(os.path.join(state, "config.toml")) or ""
        assert "sbx-planted" in inside and "PWNED" in inside, f"control: not written to the sandbox's own copy: {inside[:300]}"
        assert read(host_config) == before, f"the host's config.toml changed: {read(host_config)[:300]}"
        outside = subprocess.run(add, cwd=project, env=outside_environment(lane, home), capture_output=True, text=True, timeout=120)
        assert "sbx-planted" in (read(host_config) or ""), f"control outside failed: {shown(outside.stdout + outside.stderr)}"
        write(host_config, before)

    lane.check(agent, "--version", version)
    lane.check(agent, "codex exec reaches the fake API with the login copied from the host, and prints its answer", prompt)
    lane.check(agent, "interactive: trusts the project, an answer; a second start does not ask again", interactive)
    lane.check(agent, "an MCP server and a notify command added inside stay out of the host's config.toml (control: outside they land)", plants_stay_inside)
    lane.check(agent, "other tools' secrets are hidden", lambda: secrets_hidden(lane, agent, home, project,
                                                                              [os.path.join(home, ".claude", ".credentials.json")]))
    shutil.rmtree(root, ignore_errors=True)


# --- aider ---------------------------------------------------------------------------------

def aider(lane):
    agent, aider_binary = "aider", lane.binaries["aider"]
    root, home, project = lane.new_home(agent)
    ca = os.path.join(lane.directory, "ca", "ca.pem")
    environment = {"OPENAI_API_KEY": "sk-sbx-aider-fake", "OPENAI_API_BASE": "https://api.openai.com/v1",
                   "SSL_CERT_FILE": ca, "REQUESTS_CA_BUNDLE": ca}
    flags = ["--env", "SSL_CERT_FILE", "--env", "REQUESTS_CA_BUNDLE"]
    ask = [aider_binary, "--model", "openai/gpt-4o-mini", "--message", "say hello", "--yes-always",
           "--no-check-update", "--no-show-model-warnings", "--no-pretty"]
    write(os.path.join(home, ".claude", ".credentials.json"), '{"claudeAiOauth": "SBX-SECRET-OTHER"}')
    identity = ["--env", "GIT_CONFIG_COUNT=2", "--env", "GIT_CONFIG_KEY_0=user.name", "--env", "GIT_CONFIG_VALUE_0=Sbx Test",
                "--env", "GIT_CONFIG_KEY_1=user.email", "--env", "GIT_CONFIG_VALUE_1=sbx@example.invalid"]

    def version():
        status, output = lane.sbx_run(agent, [aider_binary, "--version"], home, project, environment, flags)
        assert status == 0 and "aider" in output, f"status {status}: {shown(output)}"

    def prompt_with_identity_from_flags():
        # No ~/.gitconfig: the identity comes from git's variables, as the profile's comment says.
        lane.clear_requests()
        status, output = lane.sbx_run(agent, ask, home, project, environment, flags + identity)
        assert status == 0 and ANSWER in output, f"status {status}: {shown(output)}"
        assert any(r["path"].endswith("/chat/completions") for r in lane.requests()), f"fake not asked: {lane.requests()[:5]}"

    def prompt_with_identity_from_gitconfig():
        write(os.path.join(home, ".gitconfig"), "[user]\n\tname = Sbx Test\n\temail = sbx@example.invalid\n", 0o644)
        try:
            status, output = lane.sbx_run(agent, ask, home, project, environment, flags)
            assert status == 0 and ANSWER in output, f"status {status}: {shown(output)}"
        finally:
            os.unlink(os.path.join(home, ".gitconfig"))

    def no_identity_is_said():
        # Without any identity aider stops (it writes .git/config, protected); this records it.
        status, output = lane.sbx_run(agent, ask, home, project, environment, flags)
        assert "user]" not in (read(os.path.join(project, ".git", "config")) or ""), "aider wrote an identity into the host's .git/config"
        if status == 0 and ANSWER in output:
            return
        assert "Read-only file system" in output and ".git/config" in output, f"status {status}: {shown(output)}"

    def plants_stay_inside():
        keys = os.path.join(home, ".aider", "oauth-keys.env")
        write(keys, "OPENROUTER_API_KEY=sk-or-fake\n")
        before = read(keys)
        script = 'echo "AIDER_LINT_CMD=touch PWNED" >> "$HOME/.aider/oauth-keys.env"; cat "$HOME/.aider/oauth-keys.env"'
        status, output = lane.sbx_run(agent, ["/bin/sh", "-c", script], home, project, environment, flags)
        assert read(keys) == before, "~/.aider/oauth-keys.env changed on the host"
        assert "sk-or-fake" in output, f"its own key is not readable inside: {shown(output)}"

    lane.check(agent, "--version", version)
    lane.check(agent, "a message reaches the fake API and prints its answer (identity from git's variables)", prompt_with_identity_from_flags)
    lane.check(agent, "the same with the identity in ~/.gitconfig", prompt_with_identity_from_gitconfig)
    lane.check(agent, "without a git identity, .git/config stays unwritten", no_identity_is_said)
    lane.check(agent, "~/.aider/oauth-keys.env (loaded as settings at the next start) cannot be written inside", plants_stay_inside)
    lane.check(agent, "other tools' secrets are hidden", lambda: secrets_hidden(lane, agent, home, project,
                                                                              [os.path.join(home, ".claude", ".credentials.json")]))
    shutil.rmtree(root, ignore_errors=True)
