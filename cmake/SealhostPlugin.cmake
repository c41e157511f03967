# Filled in with the plugin API (see plugin-api/).
