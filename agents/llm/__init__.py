"""Assistant (LLM) worker (WORKER_TYPE=llm, port 3001): completions, chat memory, agent loops."""
