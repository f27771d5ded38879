"""Translations of the wod JupyterLab extension: locale/<locale>/LC_MESSAGES/wod.json."""
