"""Runnable examples. Each module holds kernels and a ``main()`` that runs them and checks the result:
``python examples/saxpy.py`` (or ``python -m examples.saxpy``)."""
