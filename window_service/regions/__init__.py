"""区划: regions (县 → 市 → 省) that group halls, and their office's side-by-side figures."""
