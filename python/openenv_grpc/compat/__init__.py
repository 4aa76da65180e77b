"""Other projects' client APIs over our protocol (`openenv`: OpenEnv's `EnvClient`)."""
