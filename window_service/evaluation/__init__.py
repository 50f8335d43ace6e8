"""民主测评: the democratic evaluation of departments by a yearly panel, quarter by quarter."""
