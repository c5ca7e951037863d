"""Agent tool worker (WORKER_TYPE=agent_tool, port 3002): safe execution of registered tools."""
