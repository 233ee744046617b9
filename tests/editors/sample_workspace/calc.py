"""A tiny calculator module: the sample the Neovim tests edit."""


def total(values):
    result = 0
    for value in values:
        result = result + value
    return result


def add(a, b):
    return a + b
