"""The Jixiao rule language: parser, checker, formatter, compiler and runtime."""
