"""Where the plugin's pages live, apart from the plugin so that metadata can link to
them without importing Datasette."""

# Under a database: /archive/-/timeline?topic=AI
TIMELINE_PATH = "-/timeline"
