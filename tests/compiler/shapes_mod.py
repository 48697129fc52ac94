"""A module constant reached as shapes_mod.NAME by test_shared_shapes.py."""
PAIR_SHAPE = (2, 4)
