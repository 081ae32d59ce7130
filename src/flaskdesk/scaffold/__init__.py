"""The project template behind ``flaskdesk new`` (tooling: never imported by the runtime)."""

from __future__ import annotations

from .render import PlannedFile, ProjectNames, check_target, plan_project, project_names, write_project

__all__ = ["PlannedFile", "ProjectNames", "check_target", "plan_project", "project_names", "write_project"]
