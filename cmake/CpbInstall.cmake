# Installed later in this file's life; see the plug-in test in tests/plugin.
