"""Plan → Tree {relative path: text}. Pure: never sees the spec, never touches the disk."""

from lbgen.render.tree import Tree, render_tree

__all__ = ["Tree", "render_tree"]
