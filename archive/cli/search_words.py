"""`archive search -word`: a leading dash is a search word, not an option.

click reads `-facial` as the short options -f, -a, ... and `-house` as -h (help).
Any argument starting with one dash that is not exactly one of the command's
options (and not an option's value) is marked as a word before click parses, and
the mark is taken off again in the command.
"""

from __future__ import annotations

import click

WORD = "\0"  # cannot come from a command line, so it marks only what we marked


class SearchCommand(click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        params = self.get_params(ctx)
        known = {name for p in params for name in (*p.opts, *p.secondary_opts)}
        takes_value = {
            name
            for p in params
            if isinstance(p, click.Option) and not p.is_flag and not p.count
            for name in p.opts
        }
        marked: list[str] = []
        for i, arg in enumerate(args):
            if arg == "--":
                marked.extend(args[i:])
                break
            after_option = bool(marked) and marked[-1] in takes_value
            is_word = arg.startswith("-") and not arg.startswith("--") and len(arg) > 1
            marked.append(WORD + arg if is_word and arg not in known and not after_option else arg)
        return super().parse_args(ctx, marked)


def unmarked(words: tuple[str, ...]) -> list[str]:
    return [word.removeprefix(WORD) for word in words]
