"""Request bodies drawn from a JSON Schema into a pool before a load runs, so drawing never
caps the request rate and a seed makes the pool reproducible."""

from infratest.bodies.drawing import MODES, draw_bodies
from infratest.bodies.schema_file import SchemaError, check_schema, load_schema

__all__ = ["MODES", "SchemaError", "check_schema", "draw_bodies", "load_schema"]
