"""Other worlds in and out: Gymnasium envs served as Environments (and, later, OpenEnv and MCP)."""
