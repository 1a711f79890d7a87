"""What vaeviewer ships that is not code: the bundled models (models/*.pt), installed as vaeviewer.resources."""
