"""mutmut 3.8.1, taught to mutate the decorated functions of this project.

mutmut 3 leaves every function with a decorator out (apart from @staticmethod and @classmethod):
copying a decorated function for its trampoline could run the decorator's side effects twice
(a route registered twice), mutating a decorator's arguments can break the import, and
@property breaks the trampoline's signature. Almost every service here is `@transaction.atomic`,
so a plain run would score the services on their undecorated helpers alone.

The decorators in ALLOWED have none of those problems when applied once, to the trampoline only:
the copies of the function (the original and each mutant) are made without them, and the
trampoline keeps them outermost, so `calendar_create` is still `atomic(trampoline)` and a mutant
runs inside the same transaction as the original (no extra savepoint, the same queries). The
decorator's own arguments stay unmutated, as mutmut does for classes. Functions with any other
decorator (`@property`, `@receiver`, ...) are still skipped, and counted as such in the report.

Two internals are patched, so mutmut and libcst are pinned exactly in requirements-mutation.txt.
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import PositionProvider
from mutmut.mutation import file_mutation

# Decorator names (the dotted name, without a call's arguments) that are applied to the trampoline only.
ALLOWED = frozenset(
    {
        "transaction.atomic",  # django.db.transaction: atomic(trampoline) calls the plain copies
        "atomic",
        "contextmanager",  # the trampoline of a generator function is a generator function
        "task",  # django_tasks.task(): the task object wraps the trampoline, found by the same path
    }
)


def dotted_name(decorator: cst.Decorator) -> str:
    """`@transaction.atomic` -> "transaction.atomic"; `@task()` -> "task"; anything else -> ""."""
    node = decorator.decorator
    if isinstance(node, cst.Call):
        node = node.func
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return ""
    parts.append(node.value)
    return ".".join(reversed(parts))


def only_allowed_decorators(function: cst.FunctionDef) -> bool:
    return bool(function.decorators) and all(dotted_name(d) in ALLOWED for d in function.decorators)


_original_skip = file_mutation.MutationVisitor._skip_node_and_children
_original_arrangement = file_mutation.function_trampoline_arrangement


def _skip_node_and_children(self: file_mutation.MutationVisitor, node: cst.CSTNode) -> bool:
    if isinstance(node, cst.FunctionDef) and only_allowed_decorators(node):
        # mutmut's own checks for a function, less the one that refuses every decorated function
        position = self.get_metadata(PositionProvider, node, None)
        if position and position.start.line in self._ignored_node_lines:
            self.ignored_functions.add(node.name.value)
            return True
        return node.name.value in file_mutation.NEVER_MUTATE_FUNCTION_NAMES
    return _original_skip(self, node)


def _function_trampoline_arrangement(function: cst.FunctionDef, mutants, class_name):
    if not only_allowed_decorators(function):
        return _original_arrangement(function, mutants, class_name)
    # The copies share their child nodes with `function`, so each mutation still finds the node it replaces.
    bare = function.with_changes(decorators=[])
    declarations, methods, assignments, names = _original_arrangement(bare, mutants, class_name)
    trampoline, *copies = methods
    trampoline = trampoline.with_changes(decorators=[*function.decorators, *trampoline.decorators])
    return declarations, [trampoline, *copies], assignments, names


def install() -> None:
    file_mutation.MutationVisitor._skip_node_and_children = _skip_node_and_children
    file_mutation.function_trampoline_arrangement = _function_trampoline_arrangement


def skipped_functions(source: str) -> list[str]:
    """The functions (and methods) of a module that stay unmutated because of a decorator not in ALLOWED."""
    module = cst.parse_module(source)
    skipped = []

    def visit(body, prefix=""):
        for statement in body:
            if isinstance(statement, cst.FunctionDef) and statement.decorators:
                names = [dotted_name(d) for d in statement.decorators]
                if names not in (["staticmethod"], ["classmethod"]) and not only_allowed_decorators(statement):
                    skipped.append(f"{prefix}{statement.name.value} (@{', @'.join(n or '?' for n in names)})")
            elif isinstance(statement, cst.ClassDef) and isinstance(statement.body, cst.IndentedBlock):
                visit(statement.body.body, prefix=f"{statement.name.value}.")

    visit(module.body)
    return skipped
