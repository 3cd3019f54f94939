"""Command-line error reporting: a user mistake prints one clear message, not a 50-line traceback.

:func:`run_main` calls a tool's ``main`` and, on an exception, prints ``error: <message>`` plus where it
was raised, and exits with status 1. ``--debug`` (or ``FERTOOLS_DEBUG=1``) re-raises for the full trace.
"""
import os
import sys
import traceback

__all__ = ['run_main', 'debug_enabled']


def debug_enabled(argv=None) -> bool:
    argv = sys.argv[1:] if argv is None else argv
    return '--debug' in argv or os.environ.get('FERTOOLS_DEBUG', '') not in ('', '0', 'false', 'False')


def _message(err: BaseException) -> str:
    text = str(err)
    if isinstance(err, KeyError) and type(err).__str__ is KeyError.__str__ and text.startswith(("'", '"')):
        text = text[1:-1]  # KeyError quotes its message
    return text or repr(err)


def run_main(main, argv=None, tool: str = 'fertools') -> int:
    """Run ``main(argv)``; return its status, or 1 after printing a short error (see module doc)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        status = main(argv)
        return 0 if status is None else int(status)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as err:  # noqa: BLE001 - every failure gets the short form unless --debug
        if debug_enabled(argv):
            raise
        frames = traceback.extract_tb(err.__traceback__)
        where = f' (raised in {frames[-1].filename}:{frames[-1].lineno})' if frames else ''
        print(f'{tool}: error: {type(err).__name__}: {_message(err)}{where}\n'
              f'{tool}: rerun with --debug or FERTOOLS_DEBUG=1 for the full traceback.', file=sys.stderr)
        return 1
