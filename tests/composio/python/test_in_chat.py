"""The in-chat story, driven the way a model drives it (no LLM: the model's answers are written
by hand as OpenAI chat completions). The app hands the session's tools to the model and passes
each answer to the SDK's provider, which runs the tool calls against the broker."""

import functools
import json

import pytest
from composio.core.provider import AgenticProvider
from openai.types.chat import ChatCompletion

from conftest import complete_link, composio_for, find_key

WHO_AM_I = {"tools": [{"tool_slug": "OIDC_GET_CURRENT_USER", "arguments": {}}]}


def model_says(*calls):
    """An OpenAI chat completion whose assistant message calls these tools."""
    return ChatCompletion.model_validate({
        "id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": "scripted-model",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "logprobs": None, "message": {
            "role": "assistant", "content": None,
            "tool_calls": [{"id": f"call_{i}", "type": "function",
                            "function": {"name": name, "arguments": json.dumps(args)}}
                           for i, (name, args) in enumerate(calls)]}}]})


def test_the_model_searches_is_told_to_connect_gets_a_link_and_its_retry_reads_the_user(oidc):
    composio = composio_for(oidc)
    session = composio.create(user_id="alice_app_id", toolkits=["oidc"])

    tools = session.tools()
    names = {t["function"]["name"] for t in tools}
    assert {"COMPOSIO_SEARCH_TOOLS", "COMPOSIO_MULTI_EXECUTE_TOOL", "COMPOSIO_MANAGE_CONNECTIONS"} <= names
    assert all(t["type"] == "function" and t["function"]["parameters"]["type"] == "object" for t in tools)

    def turn(*calls):
        return composio.provider.handle_tool_calls(session=session, response=model_says(*calls))

    # 1. The model looks for a tool for the user's request.
    [found] = turn(("COMPOSIO_SEARCH_TOOLS", {"queries": [{"use_case": "who am I at the test provider"}]}))
    assert found["successful"], found
    assert "OIDC_GET_CURRENT_USER" in json.dumps(found["data"])

    # 2. It tries the tool: not connected, and the answer names the next step.
    [tried] = turn(("COMPOSIO_MULTI_EXECUTE_TOOL", WHO_AM_I))
    assert "COMPOSIO_MANAGE_CONNECTIONS" in json.dumps(tried)
    assert "alice@example.test" not in json.dumps(tried)

    # 3. It asks for a connection and shows the user the link.
    [managed] = turn(("COMPOSIO_MANAGE_CONNECTIONS", {"toolkits": ["oidc"]}))
    assert managed["successful"], managed
    link = find_key(managed["data"], "redirect_url")
    assert link and link.startswith(oidc.base_url), managed

    # 4. The user connects; the model's retry reads the user's own profile.
    complete_link(link, "oidc", login="alice")
    [retried] = turn(("COMPOSIO_MULTI_EXECUTE_TOOL", WHO_AM_I))
    assert retried["successful"], retried
    assert "alice@example.test" in json.dumps(retried["data"])


def test_several_tool_calls_in_one_answer_each_get_a_result(broker):
    composio = composio_for(broker)
    session = composio.create(user_id="u_parallel", toolkits=["sandbox"])
    results = composio.provider.handle_tool_calls(session=session, response=model_says(
        ("COMPOSIO_SEARCH_TOOLS", {"queries": [{"use_case": "who am I in the sandbox"}]}),
        ("COMPOSIO_MANAGE_CONNECTIONS", {"toolkits": ["sandbox"]})))
    assert len(results) == 2
    assert all(r["successful"] for r in results), results
    assert find_key(results[1]["data"], "redirect_url")


def test_an_agentic_provider_runs_the_session_tools_it_wrapped(broker):
    class ScriptedAgent(AgenticProvider, name="scripted-agent"):
        """What an agent framework's provider does: wraps each tool with the SDK's executor."""

        def wrap_tool(self, tool, execute_tool):
            return functools.partial(execute_tool, tool.slug)

        def wrap_tools(self, tools, execute_tool):
            return {tool.slug: self.wrap_tool(tool, execute_tool) for tool in tools}

    composio = composio_for(broker, provider=ScriptedAgent())
    session = composio.create(user_id="u_agentic", toolkits=["sandbox"])
    tools = session.tools()
    managed = tools["COMPOSIO_MANAGE_CONNECTIONS"]({"toolkits": ["sandbox"]})
    assert managed["successful"], managed
    complete_link(find_key(managed["data"], "redirect_url"), "sandbox")
    ran = tools["COMPOSIO_MULTI_EXECUTE_TOOL"]({"tools": [{"tool_slug": "SANDBOX_GET_CURRENT_USER", "arguments": {}}]})
    assert ran["successful"], ran
    assert "octocat@sandbox.grantline.test" in json.dumps(ran["data"])


def test_the_app_runs_meta_tools_and_toolkit_tools_itself(oidc):
    composio = composio_for(oidc)
    session = composio.create(user_id="alice_app_id", toolkits=["oidc"])

    found = session.execute("COMPOSIO_SEARCH_TOOLS", arguments={"queries": [{"use_case": "my profile"}]})
    assert found.result_type == "completed", found
    assert "OIDC_GET_CURRENT_USER" in json.dumps(found.data)

    before = session.execute("OIDC_GET_CURRENT_USER", arguments={})
    assert before.result_type == "failed"
    assert "COMPOSIO_MANAGE_CONNECTIONS" in json.dumps(before.data) + (before.error or "")

    managed = session.execute_meta("COMPOSIO_MANAGE_CONNECTIONS", arguments={"toolkits": ["oidc"]})
    assert managed.result_type == "completed"
    link = find_key(managed.data, "redirect_url")
    account_id = find_key(managed.data, "connected_account_id")
    assert link and account_id and account_id.startswith("ca_"), managed.data
    complete_link(link, "oidc", login="alice")

    me = session.execute("OIDC_GET_CURRENT_USER", arguments={})
    assert me.result_type == "completed" and me.error is None
    assert me.data["email"] == "alice@example.test"
    assert me.log_id

    pinned = session.execute("OIDC_GET_CURRENT_USER", arguments={}, account=account_id)
    assert pinned.result_type == "completed" and pinned.data["sub"] == "alice"


def test_session_search_ranks_the_tools_for_a_use_case(oidc):
    composio = composio_for(oidc)
    session = composio.create(user_id="u_search", toolkits=["oidc"])
    found = session.search(query="who am I, my profile")
    assert found.success
    assert found.results[0].use_case == "who am I, my profile"
    assert "OIDC_GET_CURRENT_USER" in found.results[0].primary_tool_slugs
    assert "OIDC_GET_CURRENT_USER" in found.tool_schemas
    assert found.tool_schemas["OIDC_GET_CURRENT_USER"].toolkit == "oidc"
    status = {s.toolkit: s for s in found.toolkit_connection_statuses}["oidc"]
    assert status.has_active_connection is False


def test_proxy_execute_calls_the_providers_api_as_the_user(oidc):
    composio = composio_for(oidc)
    session = composio.create(user_id="u_proxy", toolkits=["oidc"], manage_connections=False)
    request = session.authorize("oidc")
    complete_link(request.redirect_url, "oidc", login="carol")
    request.wait_for_connection(timeout=30)

    answer = session.proxy_execute(toolkit="oidc", endpoint="/me", method="GET",
                                   parameters=[{"name": "x-trace", "value": "1", "in": "header"},
                                               {"name": "lang", "value": "en", "in": "query"}])
    assert answer["status"] == 200
    assert answer["data"]["sub"] == "carol"


@pytest.mark.parametrize("manage", [True, False])
def test_manage_connections_decides_whether_the_model_gets_the_connect_tool(broker, manage):
    composio = composio_for(broker)
    session = composio.create(user_id="u_manage", toolkits=["sandbox"], manage_connections=manage)
    names = {t["function"]["name"] for t in session.tools()}
    assert ("COMPOSIO_MANAGE_CONNECTIONS" in names) is manage
    assert "COMPOSIO_SEARCH_TOOLS" in names
