"""Built-in chatops plugins, installed under the namespaced name ``chatops_plugins``."""
