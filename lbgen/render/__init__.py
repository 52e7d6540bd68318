"""Plan → Tree {relative path: text}. Pure: never sees the spec, never touches the disk.
`lbgen.render.tree.render_tree` writes a whole fabric; each module renders one kind of file."""
