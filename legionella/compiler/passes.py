"""placeholder"""


def run_passes(program):
    pass
