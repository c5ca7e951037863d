"""The tool registry: tool name -> module with ``create(deps) -> Tool``.

Adding a tool is one module under ``agents/agent_tool/tools/`` plus one line here.
"""

from __future__ import annotations

import importlib

from agents.agent_tool.ports import Tool, ToolDeps
from enginedge_streams.errors import ConfigError

TOOL_MODULES: dict[str, str] = {
    "calculator": "agents.agent_tool.tools.calculator",
    "datetime": "agents.agent_tool.tools.datetime_tool",
    "document_search": "agents.agent_tool.tools.document_search",
    "files": "agents.agent_tool.tools.files",
    "http_request": "agents.agent_tool.tools.http_request",
    "json_query": "agents.agent_tool.tools.json_query",
    "nlp_analyze": "agents.agent_tool.tools.nlp_analyze",
    "web_page_text": "agents.agent_tool.tools.web_page_text",
}


def build_tools(deps: ToolDeps, names: list[str] | None = None) -> dict[str, Tool]:
    """Instantiate the registered tools (all, or ``names``); each must carry its own name."""
    tools: dict[str, Tool] = {}
    for name in names or sorted(TOOL_MODULES):
        if name not in TOOL_MODULES:
            raise ConfigError(f"unknown tool {name!r} (known: {', '.join(sorted(TOOL_MODULES))})")
        tool: Tool = importlib.import_module(TOOL_MODULES[name]).create(deps)
        if tool.name != name:
            raise ConfigError(f"tool module for {name!r} created a tool named {tool.name!r}")
        tools[name] = tool
    return tools
