"""Run a model's Python program against tests in a sandbox and decide pass/fail from evidence it cannot forge.

Process tree (Linux only)::

    caller ──► unshare --net --ipc --pid --mount-proc --fork --kill-child  (its own session and process group)
                 └─► harness  (PID 1 of a fresh PID namespace; trusted: it never runs untrusted code)
                       └─► child per run  (rlimits, cleared env, fresh temp cwd, unprivileged uid; runs the program)

Isolation is detected at runtime (first call, cached per process) and reported by `sandbox_info()`:

* ``namespaces`` (used when `unshare` works; as root, or through a user namespace otherwise): a new network
  namespace (no interfaces but a downed loopback: every connect fails), a new IPC namespace (System V shared
  memory, which outlives its processes, goes with the run), a new PID namespace with its own /proc (the
  program cannot see, signal or ptrace the caller: `os.getppid()` is the harness, PID 1, which ignores
  signals from inside its namespace), and when the caller is root the child drops to a random unused uid/gid, so
  it cannot write files it does not own, cannot signal the harness, cannot read its own /proc/self/mem (not
  dumpable), and RLIMIT_NPROC (which the kernel does not enforce for root) counts only this run's processes. When
  the interpreter lives under a directory other uids cannot traverse (e.g. /root/.pyenv under a 0700 /root), the
  harness covers that directory, in the private mount namespace only, with a tmpfs holding bind mounts of just the
  interpreter's directories, so the child can import the stdlib and sees nothing else of /root. When the caller
  is not root, the child is the user namespace's root with every capability dropped (bounding set too, locked
  securebits, no_new_privs): it cannot undo the namespace's mounts or ptrace the harness.
* ``audit`` (fallback when namespaces are refused): a `sys.addaudithook` hook in the child that ends the child
  (exit 97, reason "sandbox violation") on socket use, signals to other processes, ctypes, subprocess/exec/spawn,
  and writes/renames/removals outside the sandbox directory; the uid drop when root and the interpreter is
  reachable by other uids, otherwise fork is refused too (root ignores RLIMIT_NPROC, and a process that left
  the run's session would outlive it: only a uid of its own lets the harness kill them all). Audit hooks are a
  Python-level fence: weaker than the kernel one, which is why it is only the fallback, and it is chosen with a
  warning. Known ways past it (no audit event fires): a signal sent through `os.pidfd_open` +
  `signal.pidfd_send_signal`, a write through `os.open(..., dir_fd=...)`, and without the uid drop a read of the
  caller's memory through /proc/<pid>/mem (where yama's ptrace scope allows it).

The choice is made by running a real probe check in each candidate, first that works wins; `isolation=` forces
one (tests use it to exercise the fallback on machines where namespaces work).

Both: RLIMIT_CPU, RLIMIT_AS, RLIMIT_NPROC, RLIMIT_FSIZE, RLIMIT_NOFILE, no core files. RLIMIT_AS bounds each
process: with namespaces the harness also sums the resident memory of the run's processes every 10 ms and kills
the run past `memory_mb` ("memory limit exceeded (N MiB)"; a fork bomb of memory_mb-sized processes may overshoot by what
they fault in meanwhile); the audit fallback has no such bound, so a run there may hold NPROC times memory_mb.
A process RLIMIT_AS stops gets a MemoryError: that reads as the memory limit too when its resident memory (the
kernel's peak, wait4's ru_maxrss) reached half the limit; one request past the limit alone is "crashed".
`memfd_create`, whose memory no limit counts, fails with EPERM (a seccomp filter, on x86-64 and aarch64).
The harness kills every process of the run at the wall-clock timeout (PID 1 `kill(-1)` inside the namespace; a
uid-wide kill from a helper with the sandbox uid in audit mode; the caller kills the whole `unshare` process
group as a last resort).

Why the verdict cannot be forged: the expected values never enter the sandbox. Stdin/stdout cases send only the
input: the harness returns the size of what the program printed and a SHA-256 of its normalised text, and the
caller compares those with the expected output. Normalised line by line, as LiveCodeBench's checker compares
stripped lines (then their whitespace tokens) and Codeforces/CodeContests checkers whitespace-separated tokens:
lines split on ``"\n"``, each line its tokens split on ASCII whitespace (``"\r"`` and tabs too) one space apart,
leading and trailing blank lines dropped; so ``"1  2"``, ``" 1\t2 \r"`` and ``"1 2"`` are one answer, while
``"12"``, ``"1\n2"`` or a blank line between two lines differ from it (line structure counts, as in LiveCodeBench;
Codeforces' wcmp would ignore it). Nothing derived from the expected output, not even its length,
is in the harness's memory, which each child is forked from and can read; the output cap is a fixed
`MAX_STDOUT_BYTES` (an expected output longer than that cannot pass). Real numbers compare within a tolerance
(``check_code(float_tol=1e-6)``, 0 for exact output), as Codeforces/CodeContests checkers: when the digests differ,
the caller compares the normalised outputs line by line, token by token: as many lines of as many tokens, each
the expected one's text or, where the expected token is a real-number literal with a decimal point or exponent (``0.5``,
``-1.5e-7``; an integer such as ``3`` stays exact, ``nan``/``inf`` are text), a finite number written as a
literal (``1``, ``0.50000001``; not ``1_0`` or ``infinity``) within abs-or-rel ``float_tol`` of it:
``|a - b| <= float_tol * max(1, |b|)``. An expected output with no real number in it is compared as normalised.
For that the harness sends back the program's normalised output (lines of tokens) when it printed at most
`MAX_TOKENS_BYTES` (`MAX_TOKENS_RUN_BYTES` over the run's cases; fixed bounds, the same for every case); the
caller compares at most `MAX_TOKENS` tokens, a number of at most `MAX_NUMBER_CHARS` characters (longer output,
or a longer token, passes only exactly). Assert tests are rewritten with `ast` in
the caller: each ``assert`` becomes ``__ponder_check__(i, <records>)`` where only the non-literal operands travel to
the sandbox; literal expected values (``assert f(2) == 4`` → the ``4``, and a walrus of one, ``(want := 4)``, bound
in the sandbox only after the report) stay in the caller; a record of 2 KiB or more sent before (a container a loop
of the tests asks of) goes as a reference to it, charged its size here. The child serialises
each operand as plain builtin data (a subclass such as ``Counter`` or ``IntEnum`` as the plain value its base type
holds, read through the base type's methods; an object with an always-true ``__eq__`` is not serialisable and
fails, an ``int`` subclass with one is its int value; a NumPy scalar or array is its ``tolist()``, so the sandbox is
more lenient than Python with it: ``np.bool_(True) is True`` and ``np.arange(3) == [0, 1, 2]`` hold; a ``Fraction``
or ``Decimal`` is the ints of its numerator and denominator, or its text, read through the real class's methods,
rebuilt here if small: parts of at most 65,536 bits, 4,300 digits and exponent; a ``deque`` its items and maxlen;
a ``date``/``datetime``/``time``/``timedelta`` its fields, read through the real class's descriptors, a tzinfo
only a ``datetime.timezone``, as its offset), and the
CALLER rebuilds the values and applies ``==``/``<``/``in``/``not``/``and``, builtins such as
``isinstance``/``len``/``sorted``/``all``... itself (an argument they iterate, ``list(f(x))``, goes as the items of
the generator or map the program returned, and so does a value of the program's with no ``__contains__``
that ``in`` looks through, ``2 in f(x)`` of a generator, of dict values or of a class with only ``__getitem__``,
its items up to its end, an exception or about what the report's cap has room for, the test passing if its match
is among them, as ``in`` stops there (``5 in itertools.count()`` holds), though not an iterator the tests hold,
``it = f(x); 2 in it``, which ``in`` consumes only up to its match (the match stays here); a ``zip`` of values
all the program's, ``zip(it, it)``, runs whole there, as it takes their items in turn). An expected value written with operators, ``math``, pure methods,
slices or f-strings of the test's own values (``2 ** 10``, ``'ab'.upper()``, ``', '.join(...)``, ``'abc'[::-1]``,
``f'{3}x'``; ``hex``/``repr``/``format``, methods through their type: ``map(str.upper, [...])``) is built
by the caller too: in the sandbox the program could run that operand and return what it gives. So are
NumPy's ``allclose``/``isclose``/``array_equal``/``array_equiv``/``array``/``asarray``/``all``/``any`` (and
``.all()``/``.any()`` of such a call or of a comparison) and ``np.testing``'s
``assert_allclose``/``assert_array_equal``/``assert_equal``/``assert_(array_)almost_equal`` (such a statement is
an assert), ``json.loads``/``dumps``, ``collections.Counter``/``OrderedDict``/``deque``, ``copy.copy``/``deepcopy``,
``statistics.mean``/``median``/``fmean``, ``fractions.Fraction``, ``decimal.Decimal``, ``datetime``'s classes
(and ``fromisoformat``/``strptime``, ``timezone.utc``), ``string``'s constants
and ``re.match``/``fullmatch``/``search`` of a pattern written in the tests (a match object is no plain value;
its pattern bounded as ``match=``'s below), which the program could replace in the sandbox
(``numpy.allclose = lambda *a, **k: True``); an array built here, or sent by the sandbox, is the list it holds with NumPy's arithmetic (``expected * 2``
is no repetition), and one a test binds (``expected = np.array([1, 2])``) is written in as ``numpy.array(...)``. A method,
slice, f-string, hex, repr or format of a program's value stays sandbox code, its object's own; so do ``len``,
``str``, ``bool``, ``int`` and ``float`` of an object of the program's that is no plain value, its truth (``assert
stack``, ``not stack``) and an index written in the tests (``stack[0]``), applied there by the real builtin and
checked here to be of the type it gives, which some plain value could give as well (``len`` and truth of a
container of an exact builtin type, ``len(s.items)``, are applied there too, by the real ``len``, which no program
changes for such a type: sent whole, a list growing in a loop overflowed the report; and so is ``i in big`` of
two values of the program's, when the container is of such a type and holds only exact builtin scalars, as the left
operand is: the real ``in``, whose comparisons no program changes); so is ``3 in stack`` of a
variable the tests bound to a class's object (``stack = Stack()``; the object's own answer, unless it says it holds
a fresh ``object()`` too: then it fails). An operand of ``==``/``!=``/``in``/``is`` that is an object of a class
of the program's or the tests' (``f(2) == Point(2)``, ``f(2) is not None``), or a list, tuple, set or dict holding
some (``[f(1)] == [Point(1)]``), is compared here as its type and the fields of its ``__dict__`` and slots, read
through the real descriptors, or by identity where its class has no ``__eq__`` of its own (its own ``__eq__``, which
could say True to anything, plays no part; a class whose constructor ignores its arguments has all its objects
equal; an object with no fields, or of another module's class, is no value). A ``bytearray`` is its bytes, a
``range`` its start, stop and step (one of at most 2 ** 20 items: the caller may iterate it; ``len`` of a longer one
is applied there), a
dict's ``keys()``/``items()`` such a view (set-like, in order) of its keys/items.
A value nested deeper than 25 levels travels in pieces of 25 levels, with no recursion deeper than a piece on
either side, so a linked list of 1,000 (up to 5,000) nodes compares with ``==`` (field by field, without
recursion either; a plain nested list as deep as Python's own ``==`` allows); one that holds itself fails.
A test passes
only if it was reported at least once and every report passed. An exception test (``try: f(-1); assert False;
except ValueError: pass``, the ``assert False`` under ``else:``, or ``with pytest.raises(ValueError[,
match=r'regex']): f(-1)`` or ``pytest.raises(ValueError, f, -1)``, whose ``pytest`` in the sandbox would be the
program's) reports how its body ended: the sandbox catches any exception and reports the names of the builtin
exception classes it is an instance of by its real type (nothing if the body returned), and the caller checks them
against the handlers' classes (with ``match=``, also its message), which stay in the caller (a report the program
writes itself can claim any outcome, as its call could have raised anything, but it cannot see which class passes);
a program that exits inside the call fails. An exception of more than two unrelated builtin classes at once
(``class Any(ValueError, TypeError, KeyError)``, which a program can raise where it guesses it is checked)
fails a check of a builtin class, though pytest would pass it; a real exception is one, or two
(``io.UnsupportedOperation`` is an OSError and a ValueError), so a program's ``class Two(ValueError,
TypeError)`` still passes a check of either or of their bases, which the caller cannot tell from an honest
one. The ``match=`` pattern is searched here, as pytest's ``re.search``: a regex whose backtracking the caller
can bound (no nested repetition or back reference) on a message short enough for that bound (a longer one
fails), one that does not compile fails the test, and any other gets an ``unsupported`` verdict. With ``as
excinfo``, the code after the block reads the exception as pytest's
ExceptionInfo (``value``, ``type``, ``typename``, ``tb``): ``str(excinfo.value)`` is the sandbox's str of it (an
exception is no plain value to send), ``excinfo.type is``/``==`` a builtin class is decided here on the name of the
builtin class the sandbox found it to be, and ``excinfo.match(pattern)`` here like ``match=`` (a pattern the tests
hold in a variable, which the sandbox has anyway, there); if the body raised nothing, ``excinfo`` is unbound there
and the test fails either way. A class the test names that is no builtin (``except InsufficientFunds``,
``pytest.raises(solution.Overdraft)``: the program's own) exists only in the sandbox, which evaluates it before the
body (as ``pytest.raises(E)`` does) and reports whether the exception's real type has it in its MRO, as ``except``
decides (a metaclass's ``__subclasscheck__``, an ``__instancecheck__`` or a ``__class__`` that lies play no part),
and that it is no builtin exception class (``InsufficientFunds = Exception`` would let any exception pass): a
program can pass it only by raising its own class, which it could do honestly. An assert in the body (``with
pytest.raises(ZeroDivisionError): assert div(1, 0) == 0``) lets an exception of its operands through to the check,
as Python would, and one the body leaves unreached by raising first has passed (it is part of that test); one it
reaches is decided as any. A bare ``except:`` expects any exception. Handlers that do more than ``pass``
(``except ValueError as e: assert str(e) == 'neg'``) run after the report, the exception raised again into
them as written, the names they bind read as exceptions (``str(e)`` is the sandbox's str); when the check
passed, the asserts of the handler the exception enters must be reported: of several, that is the first that
names a class it is one of, decided here from the report as the check is (the others' stay unreached).
An exception test written with a flag (``raised = False``, ``try: f(-1)``, ``except ValueError: raised =
True``, then ``assert raised``; the flag set False by the statement before the ``try``, the last of its body or
its ``else:``, each handler only setting it True, the flag bound and read nowhere else in its function or
module) is that ``try`` form and is decided as it is. A ``try`` of another form (``except ValueError: raised
= True`` with ``raised`` read again, or a handler that does more) runs as written: its handlers' classes are
in the sandbox, whose names the program can rebind during the call. Other asserts with no value from the
sandbox in them may go unreached once some other assert was reported.
With assert tests the program runs as a module named ``solution``, so its ``if __name__ == "__main__":`` block
does not run (as when LiveCodeBench imports a call-based solution); stdio programs run as ``__main__``. The
module is registered, so ``from solution import add``, ``from solution import *`` and ``import solution`` in
the tests find it; the tests run in its namespace, after the program. Exit status 0 counts for nothing; the
result channel of the harness is closed in the child before the program starts, and the harness echoes a
per-run nonce.

pytest-style tests (KodCode and most code-RL sets): top-level functions ``test*``, and methods ``test*`` of
classes ``Test*`` (no bases, no ``__init__``; called on a fresh instance), that the tests do not call or
otherwise use by name themselves (a call under ``if __name__ == "__main__":`` does not run, so does not count)
are called in file order after the module's statements, as pytest would. Each call is one test, made of the
asserts in its body (rewritten as above): it passes only if each of them was reported and every report passed,
and the call raised nothing; reasons name it (``failed test 2 (test_neg)``, ``TestAdd::test_neg``). A test
function with no assert is called, and its exception fails the run (``error in test_smoke``), but it is no
test of its own: that it returned is no evidence the caller can trust (a program can forge the end of the
run), so it is not counted in ``passed N/N``. ``@pytest.mark.parametrize`` with a list (or tuple) of cases
written in the tests, or a top-level name bound once to one (``CASES = [...]``), or a comprehension of the
tests' own values (``[(i, 2 * i) for i in range(5)]``, built by the caller; at most 1000), is expanded in the caller
into one function per case (stacked decorators: every combination; ``pytest.param(..., id=)`` too), named
``test_add[K]`` for case K: each argument's value is written into the body where it is read, so ``assert
add(a, b) == expected`` becomes ``assert add(1, 2) == 3`` and the 3 stays in the caller (and so is a value of
at most 10,000 elements, a large input staying the sandbox's to build, that any test function's body assigns
at its top level from values written in the tests, ``expected = [1, 2]`` or ``x, want = case``, unless it
is read before or declared global: see the loops below; and a name the tests bind once, at the top level, to
such a value, in every statement that reads it, when it is immutable or read once there: ``expected = 6``
then ``assert f(3) == expected``, the name then left out of the namespace the program shares). A mutable
value read more than once (a list the test sorts in place, then compares), or an argument the body rebinds,
is assigned at the top of the body instead (the sandbox then holds it, as it holds any value a test binds to
a name), unless each read of it is in an assert's message or its test under only comparisons, operators and
builtins the caller applies (``assert f(x) == expected and len(expected) == 2``, any number of them), where
the value is written in as an immutable one is; a value
the statements right after compute from it, before any code ran (``data = [3, 1, 2]`` then
``expected = sorted(data)``), is still the caller's, as above, unless it shares a mutable part of it (``inner =
data[0]``: the sandbox's object, which the program may change). A table read only by parametrize is dropped from what the sandbox runs,
and so is ``import pytest`` when nothing of pytest's is left there. ``pytest.approx(expected[, rel=, abs=,
nan_ok=])`` in an assert is built by the caller like the builtins above (a number, a flat list or tuple, a
dict of numbers; pytest's tolerances), so
``assert mean(xs) == pytest.approx(0.15)`` keeps its 0.15 here. ``@pytest.mark.skip`` leaves the test out;
other marks are ignored, except ``skipif``/``xfail``/``usefixtures``. A ``@pytest.fixture`` of the tests' own
that returns or yields its value (no ``yield from``, ``params=`` or ``autouse=``; it may request others of the
kind; what follows a ``yield`` runs before the next test statement, its exception ignored) is made
afresh for each test that requests it, whatever its scope, by the tests' code in the sandbox (``data =
data__ponder_fixture()`` at the top of the test), so a value it returns is the sandbox's, as any value a test
binds to a name. pytest's ``tmp_path`` (a fresh directory in the run's), ``monkeypatch`` (``setattr``, with
a target ``"builtins.input"`` too, ``delattr``, ``setitem``, ``delitem``, ``setenv``, ``delenv``, ``chdir``,
``syspath_prepend``) and ``capsys`` (``readouterr()``: the program's output, a value of the program's) are
made in the sandbox too, what they change undone before the next test. Its other fixtures (``request``...), other
fixtures, those marks, other decorators, setup/teardown functions or methods (but a test class's
``setup_method``/``teardown_method``, called around each of its tests as pytest does) and autouse fixtures are not
run: every program gets a verdict saying so (``unsupported pytest fixture 'request' in test_x``) rather than a
failure with no reason. A test defined twice is its last definition, as in pytest. The program's own functions
``test*`` are never collected.

unittest-style tests: a class whose one base is ``unittest.TestCase`` (``ut.TestCase``, or ``TestCase`` imported
from unittest; any class name, as unittest collects) is collected like a pytest class: each method ``test*`` in
file order is one test (``TestAdd::test_pos``), called on a fresh instance, between ``setUp()`` and
``tearDown()`` (in a ``finally:``) where the class defines them, the values its body assigns from values
written in the tests bound into it as a pytest test function's are (and an attribute ``setUp`` sets so,
``self.expected = [1, 2]``, stored nowhere else and read only by the tests' assertions, written in there, or
read once in its test, as a ``for`` loop's iterable, ``for x, want in self.cases:``, then written out as the
loops below; and a class attribute so, ``cases = [...]`` in the class's body read as ``self.cases`` (or one
computed from those before it, ``more = cases + [...]``), where a
mutable one read in a loop's iterable is read nowhere else in the class: every test shares its object; a
pytest class's attributes too) (a
``super().setUp()`` in them is dropped);
the classmethods ``setUpClass``/``tearDownClass`` are called once before/after the class's tests, and the
functions ``setUpModule``/``tearDownModule`` once before/after all the tests, each a statement of its own in the
sandbox whose exception fails the run (``error in TestX::setUpClass``); ``@unittest.skip`` leaves a test or class
out. The base is dropped in the caller, so the sandbox's ``TestCase`` (the program's to patch or replace) is
never used, and the assertion methods are rewritten into the asserts above, their ``msg`` dropped:
``assertEqual``/``assertListEqual``/``assertTupleEqual``/``assertDictEqual``/``assertSetEqual`` → ``==``, ``assertSequenceEqual`` → ``list(a) == list(b)``, ``assertNotEqual``,
``assertTrue``/``assertFalse`` → ``x``/``not x``, ``assertIs``/``IsNot``/``IsNone``/``IsNotNone``,
``assertIn``/``NotIn``, ``assertIsInstance``/``NotIsInstance``, ``assertGreater``/``GreaterEqual``/``Less``/
``LessEqual``, ``assertAlmostEqual(a, b, places=7)``/``assertNotAlmostEqual`` and ``assertCountEqual(a, b)``
→ an assert of a function the caller applies as unittest decides them (``a == b``, or ``round(abs(a - b),
places) == 0``, or with ``delta=``, ``abs(a - b) <= delta``; the items counted, or matched by ``==`` where they
are unhashable), each operand run once in the sandbox, ``self.fail()`` → ``assert False``, and
``with self.assertRaises(E):`` or ``self.assertRaises(E, f, *args)`` → the ``try`` form above, ``with
self.assertRaises(E) as cm:`` (``cm.exception``) and ``with self.assertRaisesRegex(E, r'regex'):`` → ``with
pytest.raises(E[, match=r'regex']) as cm:`` above (a class it cannot decide there: ``unsupported``), ``with
self.subTest(...):`` → its body, unwrapped (a sub-test only labels its failures and any failing one fails the
test, as unittest decides; its arguments, labels, are dropped). A TestCase name the test uses any other way
(``assertRaisesRegex`` called with the function, ``assertLogs``, ``skipTest``, a bound ``eq =
self.assertEqual``), a ``setUpClass`` that is not a plain classmethod, other decorators, other bases, or a class
the tests run themselves (``TextTestRunner().run(...)``) gets an ``unsupported ...`` verdict.
``unittest.main()`` does not run (under the main guard it would not; at the top level it is dropped).

Comprehensions in asserts (``all(f(i) == 2 * i for i in range(5))``) are taken apart the same way: per item, the
sandbox reports the operands of the conditions and of the element, and the caller decides them. Where the caller
knows the items (literals, ``range(...)``, ``enumerate``/``zip`` of those), it checks that the sandbox went through
exactly as many, uses its own values for the loop variables, and sends the sandbox only the loop variables the
sandbox's code needs (``for x, y in [(1, 2), ...]``: the x's, never a y). A comprehension with no value of the
program's in it (``[i * i for i in range(5)]``, ``', '.join(str(i) for i in range(3))``, and ``map``/``filter``
of a lambda or such a builtin over the test's values) is an expected value: the caller builds it alone, each item
charged as work, and the sandbox sees nothing of it. Operands are evaluated eagerly in the sandbox;
``and``/``or``, ``any``/``all`` and comprehension conditions short-circuit in the caller, so an operand the test
did not need may cost time but cannot fail it. So a generator expression that the sandbox reports values for,
inside another comprehension whose variable that sandbox code reads, and that no builtin (or ``in``) iterates
where it stands, gets an ``unsupported`` verdict: kept for later (``list([(f(x) for _ in 'a') for x in
range(3)][0])``), Python would run it with the variable's last value, the sandbox ran it with its item's.

A ``for`` loop of the tests over items the caller knows as above (or a dict literal's ``.items()``), where a
top-level table of literals that the tests read only in loops' iterables, by item in loops' bodies and as
parametrize's table stands for its value (``for x, want in CASES: assert f(x) == want``, ``zip(INPUTS,
OUTPUTS)``, ``CASES.items()``, ``range(len(INPUTS))``, HumanEval's ``check``, a unittest ``subTest`` loop),
and so does a table a function of the tests binds once at the top of its own body and reads after only so
(``cases = [...]`` then ``for x, want in cases:``; dropped from what the sandbox runs once every such read is
written out), is written out by the caller: one copy of its body per item (at most 1000), each read of a
table's item there (``EXPECTED[i]``) that item where that is the same as reading it (an immutable item, or
one the copy reads once), the loop variables given that item's values as a parametrized case is (and so are
the names the copy's top-level statements assign from them, ``x, want = case`` or ``want = case['expected']``, a
dict read only by items written in the test bound item by item, and a value counted on from one copy to the
next, ``want += 2`` or ``want = want + x``, each copy's the caller's), so ``want`` stays here and each copy's
asserts are tests of their own, each to be reported (a program cannot end the run after the iterations it has
seen); an ``if`` on the loop's values alone is decided here in each copy, and a
``break``, ``continue`` or ``return`` it leads to ends that copy there (a ``break``, the loop and its
``else:``; a ``return``, kept, the function). A loop it cannot write out so runs as written: items the sandbox
computes, a body that may leave the loop otherwise (a ``break`` or ``return`` under an ``if`` on a value of
the program's, a ``yield``) or has a check under such an ``if``, a table the tests read otherwise too. A
``while`` loop that counts (``i = 0``, ``while i < len(cases):`` or ``i < 3``, its body ending ``i += 1``; ``i``
read nowhere after it; the table read nowhere but by item, ``len`` or as a loop's items, so nothing lengthens it
while the loop runs) is the ``for i in range(...)`` loop it runs as, and is written out as that one is.
Its asserts are reported once per iteration run (a report the same as an earlier one of that assert, the same
values, is sent once: decided the same), so the caller cannot tell how many should have been: a
program that forges the end of the run after some iterations passes the rest unrun. Likewise a call of a
helper function of the tests with values written in them, or names they never bind (``def check(x, want):
assert f(x) == want`` then ``check(3, 6)``, as the written-out loops above give; ``run(f, 3, 6)``, the
program's ``f`` read where the helper is defined, the same global) is written out as a copy of the helper's
body with those values (and what its top-level statements unpack from them; a loop over a table so passed,
``check([(1, 2), (3, 6)])`` and ``for x, want in cases:``, written out in it as above), one per call, an ``if`` on them
decided here in each copy and the copy ended at a ``return`` it leads to (``if want is None: return``); a
test class's helper method so called (``self.check(3, 6)``, ``check`` no test or hook) is written out alike, a
method of its own per call. A helper whose checks run only on some calls otherwise (under an ``if`` on a
value of the program's), a call with another argument, and every call of a helper whose copies differ so where
its name is also used otherwise, run as written, its asserts reported once per call run, with the same
weakness.

EvalPlus's tests (HumanEval+ and MBPP+ as their datasets hold them: ``inputs = [...]``, ``results = [...]``, then
``for i, (inp, exp) in enumerate(zip(inputs, results)): assertion(f(*inp), exp, 0)``, in ``check(candidate)`` or
at the top level) check through a helper of theirs, ``def assertion(out, exp, atol)``, whose two asserts stand one
in each branch of an ``if`` on the program's value (``if not exact_match and atol != 0:``): run as written, the
one a program never reached was a test never reported, and every program failed. Where the helper is EvalPlus's,
in a form its files hold (``exact_match = out == exp`` then ``assert np.allclose(out, exp, rtol=1e-07,
atol=atol)`` or ``np.testing.assert_allclose(out, exp, atol=atol)``; ``if out != exp and atol != 0:``, MBPP+'s;
that one with booleans compared as they are and a list or tuple against another as sets first), its ``is_floats``
EvalPlus's too, each bound once, a call of it with three arguments is an assert the caller decides as the helper
does (`_evalplus`): equal, or, where the expected value is a float or a list or tuple of floats, within NumPy's
allclose (atol 1e-6), on the values rebuilt here (the program's ``__eq__`` plays no part); the loop is then
written out as above, each expected value kept here. A call whose expected value a function of the tests
computes (``assertion(candidate(*inp), ref_func(*inp), 0)``: the sandbox's either way, and sent here with the
program's it doubled the report, past its cap for long outputs) runs as written, as does a helper of another
form (a line changed), the sandbox deciding it; its asserts are those of an ``if`` the caller cannot decide, one
in each branch: an assert of one branch (or ``else:``) passes unreached once an assert of the other was
reported, as Python leaves it (so does every such ``if``: ``if r > 0: assert r == 4`` / ``else: assert r ==
-4``); one of an ``if`` the caller decides is required, as any.

Names of builtins that the caller applies (``isinstance``, ``len``, ``int``, ``range``...) mean the real builtins
unless the test binds that name itself: a program's ``def isinstance(*a): return True`` changes nothing. A test
that means a program's function of such a name passes it explicitly (``check(max)``, HumanEval style). The
caller's work on values the program chose is bounded per operation and per run (big integers, repetition,
concatenation, ``sum`` of lists, ``%``-formatting, ranges, comprehension items); past the bound the test fails.

Residual weakness: an assert whose operands are ALL computed in the sandbox (e.g. ``assert f(x) == g(x)``, or a
comprehension or loop over items only the sandbox computes, whose count is then the sandbox's word) could be
forged by a program that writes reports of its own or rewrites the child's reporting code through `gc`;
literal-expected asserts and stdio cases cannot, as the program never sees what its values are compared with.
Known forgeable layouts of that kind, run as written (the program can read the expected value from its
caller's frame, or end the run after the iterations it has seen): an expected value the tests compute with
statements the caller does not evaluate (in a ``while`` loop that does not count as above, ``want += 2`` in a
loop it runs as written or at the top level of the module, a table built by ``json.loads('...')``, ``append``
or a function of the tests' that does more than return an expression of its parameters); a
table of more than 1000 items (writing out more costs the caller a few ms per item); a check that is no
assert or ``if ...: raise``, such as ``if f(x) != want: fails += 1`` then ``assert fails == 0``, whose ``!=``
is the program's object's own (always False) there; a helper method of a class that is no test class called
on an object (``c.check(1, 2)``); a walrus in an ``if`` statement's test that is not the first thing it
evaluates (``if x > 0 and (w := 6):``; one that is, ``if (w := table[k]) is not None:``, is the assignment
``w = table[k]`` before the ``if``, see _hoist_walrus) or in a comprehension's item whose name is read after it
(``any((w := 2 * x) == f(x) for x in ...)`` then ``w``, computed there before ``f(x)`` runs; the name is then
bound to the last item's value, where Python binds the one ``any`` stopped at; read nowhere else, the walrus is
its value, the caller's: see _comprehension_walrus); and
an ``if`` the caller cannot decide with asserts in both branches, where a report the program writes itself for
an assert of one branch (one it can pass, ``else: assert r is not None``) leaves the other's unrequired.

Files: with namespaces the run's directory and /tmp, /var/tmp, /dev/shm, /run/lock and /var/crash (the
world-writable directories a distribution makes) are fresh tmpfs mounts of `TMPFS_MB` each in the private mount
namespace (one holding the interpreter's files, such as a venv under /tmp, is left as it is), so what the program
writes there is bounded in total and gone with the run.

Not covered: the child can read world-readable files (keep gold datasets out of reach, e.g. mode 0600 when
running as root) and can create files in other world-writable directories (existing files of others stay
untouched), which outlive the run; there, and in the audit fallback's directory, disk use is bounded per file
(RLIMIT_FSIZE), not in total.
"""

from __future__ import annotations

import ast
import bisect
import builtins
import collections
import copy
import datetime
import decimal
import fractions
import functools
import hashlib
import itertools
import json
import keyword
import marshal
import math
import operator
import os
import re
import re._parser as _sre_parse  # re's parser, to bound the cost of a match= regex
import secrets
import shutil
import signal
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import unittest

from ponder.errors import PonderError
from ponder.verify.verdict import Verdict, parse_python

MAX_CODE_CHARS = 256_000  # a longer "program" is a degenerate completion, not a solution
MAX_REPORT_BYTES = 16 << 20  # assert reports from one run
# and their lines: the caller decodes each (~5-10 us), so 16 MiB of `{}` lines a program wrote to fd 3 held it
# ~40 s; 2 ** 19 lines of 16 MiB are 32 bytes a line, about the shortest report of a value (alike ones are sent once)
MAX_REPORT_LINES = 1 << 19
# What one stdio case may print. Fixed, never derived from the expected output: the child could read a per-case
# cap out of the harness's memory and learn the expected length (print "YES" or "NO" by it). The caller still
# fails output longer than 2 * expected + 64 KiB, as it can decide that itself.
MAX_STDOUT_BYTES = 16 << 20
# Real numbers in stdio output compare within FLOAT_TOL (abs-or-rel, as Codeforces/CodeContests checkers): the
# harness sends the caller a case's output as tokens when it printed at most MAX_TOKENS_BYTES, MAX_TOKENS_RUN_BYTES
# in all (fixed bounds, never the expected output's); the caller compares at most MAX_TOKENS of them, a number of
# at most MAX_NUMBER_CHARS characters as a float (past that, as text)
FLOAT_TOL = 1e-6
MAX_TOKENS_BYTES = 4 << 20
MAX_TOKENS_RUN_BYTES = 16 << 20
MAX_TOKENS = 1 << 20
MAX_NUMBER_CHARS = 400
MEMORY_MB = 1024
_MAX_MEMORY_MB = 1 << 43  # (2**63 bytes: the largest address-space limit setrlimit takes)
NPROC = 32  # processes + threads of one run (its own uid), enough for a thread pool, not for a fork bomb
FSIZE_MB = 16
TMPFS_MB = 64  # with namespaces: all the program may write to its directory, and to each of /tmp, /var/tmp...
VIOLATION_EXIT = 97

_FENCE = re.compile(r"```([^\n`]*)\n(.*?)```", re.DOTALL)
_PY_LANGS = {"", "python", "py", "python3", "py3"}


def extract_code(completion: str) -> str | None:
    """The last fenced block tagged python (or untagged) after the thinking; None if there is none.

    As check_math reads an answer: the thinking ends at the first "</think>" (one written inside a code block is
    code, a parser of think tags), a block drafted inside it is not the answer, and a completion cut off while
    still thinking has none (its draft passing the tests rewarded truncated output)."""
    fences = list(_FENCE.finditer(completion))
    starts, k = [m.start() for m in fences], 0

    def in_block(i: int) -> bool:
        j = bisect.bisect_right(starts, i) - 1
        return j >= 0 and i < fences[j].end()

    end = completion.find("</think>")
    while end >= 0 and in_block(end):
        end = completion.find("</think>", end + 1)
    if end >= 0:
        k = end
    else:
        i = completion.find("<think>")
        while i >= 0 and in_block(i):
            i = completion.find("<think>", i + 1)
        if i >= 0:
            return None
    blocks = [m.group(2) for m in fences if m.start() >= k and m.group(1).strip().lower() in _PY_LANGS]
    return blocks[-1] if blocks else None


# ---------------------------------------------------------------- the harness (runs inside the sandbox)

# One source for both sides of a stdio comparison: the harness digests what the program printed, the caller
# digests the expected output, and the case passes when the digests are equal, so the expected text never has to
# enter the sandbox. Normalised line by line (lines split on "\n"), as LiveCodeBench compares stripped lines and
# Codeforces/CodeContests checkers compare whitespace-separated tokens: each line is its tokens (split on ASCII
# whitespace, "\r" included) one space apart, and leading and trailing blank lines are dropped. Worked through in
# chunks of lines so that a flood of newlines costs the harness little memory.
_DIGEST_SOURCE = r'''
_BLANKS = bytes.maketrans(b"\t\r\x0b\x0c", b"    ")  # ASCII whitespace but "\n", as bytes.split() splits on

def output_digest(text, kept=None):
    # (`kept`, a list: the normalised text's pieces are appended to it, in bytes)
    h = hashlib.sha256()
    held = 0  # newlines not hashed yet: dropped if nothing but blank lines follows them
    started = False  # blank lines before the first token are dropped too
    start = 0
    while True:
        end = text.find("\n", start + (1 << 20))
        piece = (text[start:] if end < 0 else text[start:end]).encode("utf-8", "surrogatepass")  # whole lines
        # (bytes methods, not a per-line loop or a regex: a 16 MiB flood of any kind costs well under a second)
        piece = piece.translate(_BLANKS)
        while b"  " in piece:
            piece = piece.replace(b"  ", b" ")
        piece = piece.replace(b" \n", b"\n").replace(b"\n ", b"\n").strip(b" ")
        body = piece.rstrip(b"\n")
        if body and not started:
            body, held, started = body.lstrip(b"\n"), 0, True
        if body:
            h.update(b"\n" * held + body)
            if kept is not None:
                kept.append(b"\n" * held + body)
            held = len(piece) - len(piece.rstrip(b"\n"))
        else:
            held += len(piece)
        if end < 0:
            return h.hexdigest()
        held += 1  # the newline at `end`
        start = end + 1
'''
_digest_namespace: dict = {"hashlib": hashlib}
exec(_DIGEST_SOURCE, _digest_namespace)  # the caller's copy of the very function the harness runs
_output_digest = _digest_namespace["output_digest"]

# Run by `python -I -S -X utf8` (compiled once by the caller, read off stdin: _BOOT). It is PID 1 of the namespace;
# it forks one child per run and only reads what children write, so nothing the program does can change what the
# harness tells the caller.
_HARNESS = _DIGEST_SOURCE + r'''
import builtins, hashlib, json, os, resource, select, signal, site, sys, time

def site_by_hand(dirs):
    # The interpreter starts with -S: site's processing of the environment's .pth files (an editable install's
    # import finder, a certificate bundle's setup) took ~50 ms of each sandbox's ~100 ms start. Put back what a
    # program sees of site: the caller's site-packages directories (its own site read them, a venv's included) and
    # the plain directory lines of their .pth files (not their import lines: the caller's start-up code, not the
    # program's), and the builtins exit, quit, help.
    for d in dirs:
        if not os.path.isdir(d) or d in sys.path:
            continue
        sys.path.append(d)
        try:
            names = sorted(n for n in os.listdir(d) if n.endswith(".pth"))
        except OSError:
            continue
        for n in names:
            try:
                with open(os.path.join(d, n), encoding="utf-8") as f:
                    lines = f.read().splitlines()
            except (OSError, UnicodeDecodeError):
                continue
            for line in lines:
                line = line.strip()
                if not line or line.startswith(("#", "import ", "import\t")):
                    continue
                p = os.path.join(d, line)
                if os.path.isdir(p) and p not in sys.path:
                    sys.path.append(p)
    site.setquit()
    site.setcopyright()
    site.sethelper()

def read_all(fd):
    parts = []
    while True:
        b = os.read(fd, 1 << 20)
        if not b:
            return b"".join(parts)
        parts.append(b)

def write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]

def describe(e):
    try:
        return (type(e).__name__ + ": " + str(e))[:300]
    except BaseException:
        return "error"

# A value nested deeper than CHUNK levels (a linked list of 1,000 nodes) goes in pieces of CHUNK levels each: a
# part CHUNK levels down is ["@", k], k its piece's index in the report's "g" (always above the index of the piece
# that holds it), encoded after the part that holds it, at depth 0. No recursion, here, in json or in the caller,
# goes deeper than one piece; MAX_CHUNKS bounds the pieces of one report (a cycle: a doubly linked list).
CHUNK = 25
MAX_CHUNKS = 4096
MAX_RANGE = 1 << 20  # the caller's _MAX_RANGE
BIG_RECORD = 2048  # a record of a report this long (its JSON) is sent once, then referred to (see check)
chunks = []  # the pieces of the report being built, each ["e", enc1's] or ["s", struct1's]
pending = []  # (index, kind, fn, value, index of the piece that holds it)
busy = [False]
here = [-1]  # the piece being encoded (-1: the top)

def deeper(kind, fn, v):
    if len(chunks) >= MAX_CHUNKS:
        raise ValueError("value nested too deeply")
    chunks.append(None)
    pending.append((len(chunks) - 1, kind, fn, v, here[0]))
    return ["@", len(chunks) - 1]

# the pieces above the one being encoded, with their values (kept alive, so no other object takes their ids): a
# value that holds itself (a doubly linked list) shows as a piece whose value is one above it, a few pieces down
# (as Python's == of it, it fails, but at once rather than MAX_CHUNKS pieces down)
above = []
ids = set()

def drain(m):
    # encode the pieces deferred past pending[m], depth first (each holds only pieces deferred after it)
    while len(pending) > m:
        k, kind, f, x, parent = pending.pop()
        while above and above[-1][0] != parent:  # depth first: the ones above it are a prefix
            ids.discard(above.pop()[1])
        if id(x) in ids:
            raise ValueError("value holds itself")
        above.append((k, id(x), x))
        ids.add(id(x))
        here[0] = k
        chunks[k] = [kind, f(x, 0)]

def whole(fn, v):
    # fn(v, 0) with the pieces it deferred encoded too, before it returns: struct tries enc first, and a value
    # enc cannot send must fail there, not in a piece later; what a failed encoding deferred is dropped with it
    n, m, at, top = len(chunks), len(pending), here[0], not busy[0]
    busy[0] = True
    try:
        root = fn(v, 0)
        drain(m)
        return root
    except BaseException:
        del chunks[n:], pending[m:]
        raise
    finally:
        here[0] = at
        if top:
            busy[0] = False
            del pending[:], above[:]
            ids.clear()

def enc(v, _type=type, _flat=(bool, int, float, str)):
    # (a flat value defers no piece: encoded at once, as an assert in a loop of many iterations sends one each)
    if v is None or _type(v) in _flat:
        return enc1(v, 0)
    return whole(enc1, v)

def enc1(v, depth, _type=type, _hex=hex, _len=len, _sub=issubclass, _int=int.__int__, _fhex=float.hex,
        _str=str.__str__, _bhex=bytes.hex, _items=dict.items, _mods=sys.modules, _mro=type.__dict__["__mro__"].__get__,
        _attr=type.__getattribute__, _bahex=bytearray.hex, _keys=type({}.keys()), _pairs=type({}.items()),
        _iters=((list, "l", list.__iter__), (tuple, "t", tuple.__iter__), (set, "S", set.__iter__),
                (frozenset, "F", frozenset.__iter__)), _map=map, _ints={int},
        _types=lambda v, _set=set, _map=map, _type=type: _set(_map(_type, v))):
    # plain builtins only; exact type checks so subclasses and user objects cannot pose as values
    t = _type(v)
    if v is None:
        return ["N"]
    if t is bool:
        return ["b", v]
    if t is int:
        return ["i", _hex(v)]
    if t is float:
        return ["f", v.hex()]
    if t is complex:
        return ["c", v.real.hex(), v.imag.hex()]
    if t is str:
        return ["s", v]
    if t is bytes:
        return ["y", v.hex()]
    if _sub(t, bytearray):  # its bytes, read through bytearray's own method (a subclass's play no part)
        return ["Y", _bahex(v)]
    if t is range:  # (no subclass can exist) its three ints
        try:
            n = _len(v)
        except OverflowError:
            n = MAX_RANGE + 1
        if n <= MAX_RANGE:  # the caller may iterate it; a longer one is no value (len() of it is applied here)
            return ["r", _hex(v.start), _hex(v.stop), _hex(v.step)]
    if depth >= CHUNK:
        return deeper("e", enc1, v)
    if t is list or t is tuple or t is set or t is frozenset:
        tag = {list: "l", tuple: "t", set: "S", frozenset: "F"}[t]
        if _types(v) == _ints:  # (all exact ints: a big list in a loop of the tests is sent often, see check)
            return [tag, [["i", h] for h in _map(_hex, v)]]
        return [tag, [enc1(x, depth + 1) for x in v]]
    if t is dict:
        return ["d", [[enc1(k, depth + 1), enc1(x, depth + 1)] for k, x in v.items()]]
    # a dict's keys or items (`return d.keys()`): set-like, in order (`== {1, 2}` holds, `list(...)` keeps it);
    # read through the view's own iterator, not the dict subclass's
    if t is _keys:
        return ["K", [enc1(k, depth + 1) for k in _keys.__iter__(v)]]
    if t is _pairs:
        return ["J", [[enc1(k, depth + 1), enc1(x, depth + 1)] for k, x in _pairs.__iter__(v)]]
    # A subclass of a plain type (Counter, defaultdict, namedtuple, IntEnum: MBPP's own solutions return them)
    # goes as the plain value its base type holds, read through the base type's methods captured above: an
    # overridden __eq__, __iter__ or __str__ plays no part, so it still cannot pose as another value.
    if _sub(t, int):
        return ["i", _hex(_int(v))]
    if _sub(t, float):
        return ["f", _fhex(v)]
    if _sub(t, str):
        return ["s", _str(v)]
    if _sub(t, bytes):
        return ["y", _bhex(v)]
    for base, tag, it in _iters:
        if _sub(t, base):
            return [tag, [enc1(x, depth + 1) for x in it(v)]]
    if _sub(t, dict):
        return ["d", [[enc1(k, depth + 1), enc1(x, depth + 1)] for k, x in _items(v)]]
    # A Fraction or Decimal (an exact answer: `Fraction(1, 3)`) goes as the exact plain data it holds, its
    # numerator and denominator (ints), its text, read through the classes' own methods; the caller rebuilds it
    # (by its MRO: Fraction's ABC metaclass would count a class registered with it)
    fr, dm, mro = _mods.get("fractions"), _mods.get("decimal"), _mro(t)
    F, D = getattr(fr, "__dict__", {}).get("Fraction"), getattr(dm, "__dict__", {}).get("Decimal")
    if F is not None and any(c is F for c in mro):
        n, d = F.numerator.__get__(v), F.denominator.__get__(v)
        if _type(n) is int and _type(d) is int:
            return ["q", _hex(n), _hex(d)]
    Q = getattr(_mods.get("collections"), "__dict__", {}).get("deque")  # a deque: its items and maxlen
    if Q is not None and any(c is Q for c in mro):
        n = Q.maxlen.__get__(v)
        return ["Q", [enc1(x, depth + 1) for x in Q.__iter__(v)], None if n is None else _hex(_int(n))]
    if D is not None and any(c is D for c in mro):
        text = D.__str__(v)
        if _type(text) is str:
            return ["D", text]
    # A date, datetime, time or timedelta: its fields, read through the real class's descriptors (a subclass's
    # __eq__ or properties play no part); a tzinfo only as a fixed offset (datetime.timezone), as its utcoffset
    dtm = getattr(_mods.get("datetime"), "__dict__", {})
    for tag, name, fields in (("T", "datetime", ("year", "month", "day", "hour", "minute", "second",
                                                  "microsecond", "fold")),
                              ("a", "date", ("year", "month", "day")),
                              ("h", "time", ("hour", "minute", "second", "microsecond", "fold")),
                              ("e", "timedelta", ("days", "seconds", "microseconds"))):
        C = dtm.get(name)
        if C is not None and any(c is C for c in mro):
            out = [tag, [_hex(_attr(C, f).__get__(v)) for f in fields]]
            if tag in "Th":
                tz, Z = _attr(C, "tzinfo").__get__(v), dtm.get("timezone")
                if tz is not None and (Z is None or _type(tz) is not Z):
                    raise TypeError("not a plain builtin value: a tzinfo other than datetime.timezone")
                out.append(None if tz is None else enc1(Z.utcoffset(tz, None), depth + 1))
            return out
    # A NumPy scalar or array (np.int64 is no int subclass) goes as the plain value its tolist() gives: the
    # program's own word on its value, as any returned value is, and plain data after that.
    np = _mods.get("numpy")
    if np is not None and _type(np.__dict__.get("generic")) is type and _type(np.__dict__.get("ndarray")) is type:
        if _sub(t, np.generic):
            return enc1(v.tolist(), depth + 1)
        if _sub(t, np.ndarray):  # (tagged: the caller's arithmetic on it is NumPy's, `a * 2` no repetition)
            return ["A", enc1(v.tolist(), depth + 1)]
    raise TypeError("not a plain builtin value: " + str(t.__name__)[:60])

def audit_hook(root, pid_ok, nofork):
    # fallback fence when namespaces are unavailable; ends the process on the first violation
    blocked = ("socket.", "ctypes.", "subprocess.", "os.exec", "os.posix_spawn", "os.spawn", "os.system",
               "os.fork_exec", "pty.") + (("os.fork", "os.forkpty") if nofork else ())
    writes = {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.truncate",
              "os.symlink", "os.link", "os.utime", "shutil.rmtree", "os.replace", "os.unlink"}
    rp, ex, wr = os.path.realpath, os._exit, os.write
    def inside(p):
        try:
            p = os.fsdecode(p) if not isinstance(p, int) else None
        except Exception:
            return False
        if p is None:
            return True
        r = rp(p)
        return r == root or r.startswith(root + "/")
    def hook(event, args):
        bad = event.startswith(blocked)
        if event in ("os.kill", "os.killpg") and args and args[0] not in pid_ok():
            bad = True
        elif event == "import" and args and args[0] in ("_posixsubprocess", "_ctypes"):
            bad = True
        elif event == "open" and len(args) >= 2:
            mode, flags = args[1], args[2] if len(args) > 2 else 0
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC))
            if writing and not inside(args[0]):
                bad = True
        elif event in writes and args and not all(inside(a) for a in args[:2] if isinstance(a, (str, bytes))):
            bad = True
        if bad:
            try:
                wr(2, ("ponder-sandbox-violation: " + event + "\n").encode())
            finally:
                ex(97)
    return hook

def exit_status(c):
    # the status CPython exits with for SystemExit(c): a bool or IntEnum is its int value (exit(False): 0)
    if c is None:
        return 0
    if isinstance(c, int):
        return int.__int__(c) & 0xFF
    return 1

def run_program(spec):
    B = builtins
    code = spec["code"]
    # assert mode runs the program as a module, as LiveCodeBench imports a call-based solution and HumanEval's
    # exec leaves __name__ unset: its `if __name__ == "__main__":` demo (often reading stdin) is not a test
    g = {"__name__": "__main__", "__builtins__": B}
    if spec["mode"] != "stdio":
        # registered too, so that pytest-style tests' `from solution import add` and `import solution` find it
        mod = type(sys)("solution")
        g = mod.__dict__
        g["__builtins__"] = B
        sys.modules["solution"] = mod
    if spec["mode"] == "stdio":
        status = 0
        out = sys.stdout
        try:
            exec(compile(code, "<solution>", "exec"), g)
        except SystemExit as e:
            status = exit_status(e.code)
        except BaseException as e:
            write_all(2, (describe(e) + "\n").encode("utf-8", "replace"))
            status = 1
        if status == 0:
            # end as the interpreter does: wait for non-daemon threads (solutions run `main` in a thread with a
            # bigger stack and return), then run atexit functions (a fast-output idiom writes its buffer there);
            # a thread that never ends meets the wall-clock timeout
            try:
                th = sys.modules.get("threading")
                if th is not None:
                    th._shutdown()
                import atexit
                atexit._run_exitfuncs()
            except BaseException as e:
                write_all(2, (describe(e) + "\n").encode("utf-8", "replace"))
                status = 1
        for f in (sys.stdout, out):
            try:
                if f is not None and not f.closed:  # as CPython: a stream the program closed has been flushed
                    f.flush()
            except BaseException:
                status = status or 1
        os._exit(status)
    # assert mode: reports go to fd 3, whose reader is the harness
    wr, ex, _len = os.write, os._exit, len
    sized = (list, tuple, dict, set, frozenset, str, bytes, bytearray)  # (taken before the program runs)
    flat, set_, map_ = (int, float, str, bool, type(None), bytes, complex), set, map
    any_, all_ = any, all  # (a program that set builtins.any to say True had its list subclass's own __len__ sent)
    # one C encoder, made before the program runs (json.dumps makes one per call, ~half the cost of a report of an
    # assert in a loop, and looks up json's default encoder, which the program may replace); json.dumps's output
    c_make = getattr(json.encoder, "c_make_encoder", None)
    if c_make is not None:
        one = c_make(None, None, json.encoder.encode_basestring_ascii, None, ": ", ", ", False, False, True)
        def dumps(obj, _join="".join):
            return _join(one(obj, 0))
    else:
        dumps = json.dumps
    sent = [0]  # report bytes so far
    # the check reports sent: one the same as an earlier one (an assert in a loop of the tests given the same
    # values, `assert is_even(2 * i)`) is decided the same, and is not sent again (the report is bounded by the
    # distinct values, not by the iterations; the caller needs only that each assert was reported)
    reported = set()
    def emit(obj, once=False, text=None):
        data = ((dumps(obj) if text is None else text) + "\n").encode()
        if once:
            if data in reported:
                return
            reported.add(data)
        sent[0] += _len(data)
        while data:
            data = data[wr(3, data):]
    saved = dict(B.__dict__)
    # the builtin exception classes, taken before the program runs: what a test's `except ValueError` means
    exc_types = [(n, c) for n, c in saved.items() if type(c) is type and issubclass(c, BaseException)]
    _type, _sub, _str = type, issubclass, str
    # type's own subclass test (its MRO), which a metaclass's __subclasscheck__ does not replace
    _realsub, BaseException_ = type.__subclasscheck__, BaseException
    try:
        exec(compile(code, "<solution>", "exec"), g)
    except SystemExit as e:
        # `main(); sys.exit(0)` at the end of the top level (common in competitive solutions) is a program that
        # ended with status 0: its top level is done and the tests run on what it defined. Plain Python would
        # exit before the tests and check nothing; here they still run, so this passes nothing they do not
        # check (a function defined after the exit is missing). A failing status is a crash.
        if exit_status(e.code) != 0:
            emit({"crash": describe(e)})
            ex(1)
    except BaseException as e:
        emit({"crash": describe(e)})
        ex(1)
    # The rewritten asserts call these (see _AssertRewriter): every operand the caller needs becomes a record,
    # ["ok", value] or ["err", why]; the caller applies the comparisons and the logic.
    def value(fn):
        try:
            return ["ok", enc(fn())]
        except BaseException as e:
            return ["err", describe(e)]
    def value_raising(fn):
        # in the body of an exception test: an exception of the operand's is the body's
        v = fn()
        try:
            return ["ok", enc(v)]
        except BaseException as e:
            return ["err", describe(e)]
    def items(fn):
        try:
            v = fn()
        except BaseException as e:
            return ["err", describe(e)]
        return items_of(v)
    def items_raising(fn):
        return items_of(fn(), True)
    def items_of(v, raising=False):
        # an argument the caller iterates (`list(f(x))`, `sorted(...)`, `set(...)`): a value that is not plain
        # data (a generator, map, range, dict view, deque) goes as the list that iterating it gives, as Python
        # would have iterated it; plain values go as they are (`list` of a dict is its keys, in the caller)
        try:
            return ["ok", enc(v)]
        except BaseException:
            pass
        if raising:  # what iterating it raises is the body's too
            v = [x for x in v]
        try:
            return ["ok", enc([x for x in v])]
        except BaseException as e:
            return ["err", describe(e)]
    def each(make_iter, body):
        # one `for` of a comprehension the caller evaluates: what `body` reports for every item, in order
        try:
            return ["ok", [body(item) for item in make_iter()]]
        except BaseException as e:
            return ["err", describe(e)]
    def classes(fn):
        # the program's exception classes a test expects (see _AssertRewriter._raise_check); None if the
        # names do not evaluate (a program that lacks the class: nothing matches)
        try:
            return fn()
        except BaseException:
            return None
    def is_own(c, t):
        # whether real type t is a subclass of c, as `except c` decides, with c a class of the program's
        return (_sub(_type(c), _type) and not any(c is b for _, b in exc_types)
                and _realsub(BaseException_, c) and _realsub(c, t))
    def raised(e, message=False, own=None):
        # how the code a test expects to raise ended (see _AssertRewriter.visit_Try): None if it did not raise,
        # else [the names of the builtin exception classes its exception is one of, by its real type (as
        # `except` matches it; a class that only calls itself ValueError is none); with `message` its str
        # (`pytest.raises(..., match=)`); whether it is one of each class in `own`]; the caller decides
        if e is None:
            return ["ok", ["N"]]
        try:
            t = _type(e)
            names = ["l", [["s", n] for n, c in exc_types if _sub(t, c)]]
            hits = ["l", [["b", is_own(c, t)] for c in (own if _type(own) is tuple else ())]]
            return ["ok", ["l", [names, enc(_str(e)) if message else ["N"], hits]]]
        except BaseException as e2:
            return ["err", describe(e2)]
    class ExcInfo:
        # what `with pytest.raises(E) as excinfo` binds (see _AssertRewriter.visit_With): the parts of pytest's
        # ExceptionInfo a test reads; `excinfo.type` against a class and `excinfo.match` the caller decides
        def __init__(self, e):
            self.value, self.type, self.tb = e, _type(e), e.__traceback__
            self.exception = e  # as unittest's `with self.assertRaises(E) as cm` binds it
            self.typename = self.type.__name__
        def __repr__(self):
            return "<ExceptionInfo " + repr(self.value) + ">"
        def match(self, regexp):
            # a pattern that is no string written in the tests (a variable's): the sandbox holds it anyway
            import re
            if re.search(regexp, str(self.value)) is None:
                raise AssertionError("pattern not found")
            return True
    def exc_type(info):
        # the name of the builtin exception class `excinfo.type` is (by identity), or None for another class
        try:
            t = info.type
            return ["ok", enc(next((n for n, c in exc_types if c is t), None))]
        except BaseException as e:
            return ["err", describe(e)]
    big = {}  # the text of each big record sent (see check) -> its number, in the order first sent
    def check(i, *records):
        # the pieces of its deep values (see deeper), which go with the report that refers to them (none: no
        # "g", as reports of a loop of many asserts must not grow toward MAX_REPORT_BYTES)
        if chunks:
            emit({"t": i, "v": list(records), "g": chunks[:]}, True)
            del chunks[:]
            return
        # a big record sent before (a container the tests ask of in a loop, `b = f(5000)` then `for i in
        # range(300): assert i in b`, unrolled into asserts of their own) goes as ["same", its number], the
        # first one sent marked in "k": sent whole every time, the report overflowed for a right program
        parts, keep = [dumps(r) for r in records], []
        for j, text in enumerate(parts):
            if _len(text) >= BIG_RECORD:
                k = big.get(text)
                if k is None:
                    big[text] = _len(big)
                    keep.append(j)
                else:
                    parts[j] = '["same", ' + _str(k) + ']'
        emit(None, True, '{"t": ' + _str(i) + ', "v": [' + ", ".join(parts) + "]"
             + (', "k": ' + dumps(keep) if keep else "") + "}")
    # the builtins the caller applies to an operand, applied here to an object of the program's (see
    # _AssertRewriter._apply_there)
    keep = []  # the objects compared by identity, kept alive so that no other takes their id
    def struct1(v, depth, _tattr=_type.__getattribute__, _field=saved["object"].__getattribute__,
               _objeq=saved["object"].__dict__["__eq__"], _id=saved["id"], _hex=saved["hex"], _dict=saved["dict"],
               _items=saved["dict"].items, _append=saved["list"].append, _mro=_type.__dict__["__mro__"].__get__,
               _cdict=_type.__dict__["__dict__"].__get__, _str=saved["str"],
               _iters=(("l", saved["list"]), ("t", saved["tuple"]), ("S", saved["set"]), ("F", saved["frozenset"]))):
        # `f(x) == Point(1, 2)`: an object of the program's class as its type and fields, read through the real
        # descriptors, which the caller compares (its own __eq__, which could say True to anything, plays no
        # part); one whose class has no __eq__ of its own by identity, as Python does; a list, tuple, set or dict
        # of them as such a container of them
        try:
            return ["p", enc(v)]
        except BaseException:
            pass
        if depth >= CHUNK:
            return deeper("s", struct1, v)
        t = _type(v)
        for tag, base in _iters:
            if _sub(t, base):
                return ["c", tag, [struct1(x, depth + 1) for x in base.__iter__(v)]]
        if _sub(t, _dict):
            return ["m", [[struct1(k, depth + 1), struct1(x, depth + 1)] for k, x in _items(v)]]
        if _tattr(t, "__module__") != "solution":  # no class of the program's or the tests' (a Fraction whose
            raise TypeError("not a plain builtin value: " + _str(t)[:60])  # parts are no ints)
        _append(keep, v)
        if _tattr(t, "__eq__") is _objeq:
            return ["I", _hex(_id(v))]
        try:
            d = _field(v, "__dict__")
        except AttributeError:
            d = {}
        if _type(d) is not _dict:
            raise TypeError("no fields")
        fields = [[enc(k), struct1(x, depth + 1)] for k, x in _items(d)]
        for c in _mro(t):  # and its __slots__ (a dataclass(slots=True))
            names = _cdict(c).get("__slots__", ())
            for name in [names] if _type(names) is _str else names:
                try:
                    _append(fields, [enc(name), struct1(_field(v, name), depth + 1)])
                except AttributeError:
                    pass
        if not fields:  # all its state hidden from us: no way to tell two apart
            raise TypeError("not a plain builtin value: " + t.__name__[:60])
        return ["O", _hex(_id(t)), fields]
    def struct(v):
        return whole(struct1, v)
    def struct_in(v, fresh, raising=False, _tattr=_type.__getattribute__, _iter=saved["iter"],
                  _next=saved["next"]):
        # `2 in f()`: what the program returned with no __contains__ (a generator, map, dict's values(), a class
        # of its own with only __iter__, or only __getitem__: Python's old sequence protocol) Python looks
        # through by iterating it; it goes as its items, as `list(f())` sends them (one with a __contains__ as
        # `==` compares it)
        def has(name):
            try:
                _tattr(t, name)
                return True
            except AttributeError:
                return False
        t = _type(v)
        if has("__contains__"):
            return struct(v)
        # an iterator the tests may hold, which `in` consumes only up to its match: not drained
        if not ((fresh or not has("__next__")) if has("__iter__") else has("__getitem__")):
            return struct(v)
        # `in` stops at its first match, which the caller decides: an iterator that never ends
        # (`5 in itertools.count()`) or raises after its match passes there; so its items go, in batches as
        # struct sends a list, until it ends, raises or they would overfill the report cap, with how it stopped
        # ("P"; the caller fails the test unless the match is among them, or it ended)
        batches, end, n = [], None, 16
        left = spec["report_cap"] - sent[0] - (1 << 20)  # (room for the other reports)
        it = _iter(v)
        while end is None:
            batch = []
            while _len(batch) < n:
                try:
                    batch.append(_next(it))
                except StopIteration:
                    end = ""
                    break
                except BaseException as e:
                    if raising:  # in the body of an exception test: an exception of the operand's is the body's
                        raise
                    end = describe(e)
                    break
            while True:
                pieces = _len(chunks)
                r = struct(batch)
                cost = _len(dumps([r, chunks[pieces:]]))
                if cost <= left:
                    break
                # the items past the bound are dropped, their pieces too (no match among them can pass)
                del chunks[pieces:]
                end, batch, r = "too many items", batch[:_len(batch) // 2], None
                if not batch:
                    break
            if r is not None:
                left -= cost
                batches.append(r)
            n = min(2 * n, 1 << 16)
        return ["P", batches, end]
    def contains(v, x, _object=saved["object"]):
        # `3 in stack`: the object's own answer, as len(stack); one that says it holds an object nothing else
        # holds says so of anything, and no plain value would
        try:
            anything = _object() in v
        except BaseException:
            anything = False
        if anything:
            raise ValueError("'in' holds anything")
        return x in v
    there = {"len": saved["len"], "str": saved["str"], "bool": saved["bool"], "int": saved["int"],
             "float": saved["float"], "sub": lambda v, i: v[i], "in": contains, "struct": struct,
             "struct_in": struct_in}
    last = [None, False]  # the value of the last `struct` operand applied, and whether that one succeeded
    def apply(op, fn, *args, raising=False):
        prev, last[1] = last[:], False
        if raising:  # in the body of an exception test: an exception of the operand's is the body's
            v = fn()
        else:
            try:
                v = fn()
            except BaseException as e:
                return ["err", describe(e)]
        if op == "struct":
            last[:] = [v, True]
        if op == "struct_in" and args[1:] == (True,) and prev[1]:
            # `i in big` of two values of the program's (the left one the record just before): a container of an
            # exact builtin type whose items are exact builtin scalars, as the left operand is, gives the real
            # `in`'s answer, whose comparisons no program changes (sent whole, a big one in a loop overflowed
            # the report); any other goes as before
            x, t = prev[0], _type(v)
            if any_(_type(x) is c for c in flat) and (
                    t is str and _type(x) is str or any_(t is c for c in sized[:5])
                    and all_(any_(u is c for c in flat) for u in set_(map_(_type, v)))):
                return ["ok", ["R", ["H", x in v]]]
        if op == "struct_in":
            args = args[:1]
        if op in ("len", "bool") and any_(_type(v) is t for t in sized):
            # `len(s.items)` / `assert items` of a container of an exact builtin type: its length or truth, by the
            # real len, which a program cannot change for these types (the encoder trusts them the same way: it
            # iterates them as they are); its items, sent whole, overflowed the report in a loop over a growing one
            n = _len(v)
            return ["ok", ["R", enc(n if op == "len" else n != 0)]]
        try:
            return ["ok", enc(v)]  # plain: the caller applies it
        except BaseException:
            pass
        if raising:
            r = there[op](v, *args, raising=True) if op == "struct_in" else there[op](v, *args)
        else:
            try:
                r = there[op](v, *args)
            except BaseException as e:
                return ["err", describe(e)]
        if op in ("struct", "struct_in"):  # JSON already, with its pieces in the report's (see deeper)
            return ["ok", ["R", r]]
        try:
            return ["ok", ["R", enc(r)]]
        except BaseException as e:
            return ["err", describe(e)]
    def apply_raising(op, fn, *args):
        return apply(op, fn, *args, raising=True)
    # pytest's own fixtures that tests request (see _fixture_setup), as much of them as tests use; what they
    # change is undone before the next test statement, as pytest does after the test
    pending = []
    notset = object()
    class MonkeyPatch:
        def __init__(self):
            self._undo = []
            pending.append(self.undo)
        def _record(self, undo):
            self._undo.append(undo)
        def setattr(self, target, name, value=notset, raising=True):
            if value is notset:  # monkeypatch.setattr("os.getcwd", fake)
                if _type(target) is not _str:
                    raise TypeError("use setattr(target, name, value) or setattr(target_str, value)")
                import importlib
                value, (path, _, name) = name, target.rpartition(".")
                parts = path.split(".")
                target = importlib.import_module(parts[0])
                for k in range(1, len(parts)):
                    try:
                        target = getattr(target, parts[k])
                    except AttributeError:
                        target = importlib.import_module(".".join(parts[:k + 1]))
            old = getattr(target, name, notset)
            if raising and old is notset:
                raise AttributeError(repr(target) + " has no attribute " + repr(name))
            if isinstance(target, type):  # a staticmethod or classmethod is put back as itself
                old = target.__dict__.get(name, notset)
            self._record(lambda: delattr(target, name) if old is notset else setattr(target, name, old))
            setattr(target, name, value)
        def delattr(self, target, name=notset, raising=True):
            if name is notset:
                if _type(target) is not _str:
                    raise TypeError("use delattr(target, name) or delattr(target_str)")
                path, _, name = target.rpartition(".")
                import importlib
                target = importlib.import_module(path)
            if not hasattr(target, name):
                if raising:
                    raise AttributeError(name)
                return
            old = getattr(target, name) if not isinstance(target, type) else target.__dict__.get(name, notset)
            self._record(lambda: setattr(target, name, old) if old is not notset else None)
            delattr(target, name)
        def setitem(self, dic, name, value):
            old = dic.get(name, notset)
            self._record(lambda: dic.pop(name, None) if old is notset else dic.__setitem__(name, old))
            dic[name] = value
        def delitem(self, dic, name, raising=True):
            if name not in dic:
                if raising:
                    raise KeyError(name)
                return
            old = dic[name]
            self._record(lambda: dic.__setitem__(name, old))
            del dic[name]
        def setenv(self, name, value, prepend=None):
            value = str(value)
            if prepend and name in os.environ:
                value = value + prepend + os.environ[name]
            self.setitem(os.environ, name, value)
        def delenv(self, name, raising=True):
            self.delitem(os.environ, name, raising)
        def chdir(self, path):
            old = os.getcwd()
            self._record(lambda: os.chdir(old))
            os.chdir(path)
        def syspath_prepend(self, path):
            old = list(sys.path)
            self._record(lambda: sys.path.__setitem__(slice(None), old))
            sys.path.insert(0, str(path))
        def undo(self):
            while self._undo:
                self._undo.pop()()
    class CapSys:
        def __init__(self):
            import io
            saved = sys.stdout, sys.stderr
            self._out, self._err = io.StringIO(), io.StringIO()
            sys.stdout, sys.stderr = self._out, self._err
            def undo():
                sys.stdout, sys.stderr = saved
            pending.append(undo)
        def readouterr(self):
            import collections
            out, err = self._out.getvalue(), self._err.getvalue()
            for f in (self._out, self._err):
                f.seek(0)
                f.truncate()
            return collections.namedtuple("CaptureResult", "out err")(out, err)
    def yielded(gen):
        # a `yield` fixture: its value, its teardown later (pytest reports an error there apart from the test)
        value = next(gen)
        pending.append(lambda: next(gen, None))
        return value
    def tmp_path():
        import pathlib, tempfile
        return pathlib.Path(tempfile.mkdtemp(dir=os.getcwd()))  # in the run's directory (the audit fence's too)
    helpers = {"__ponder_check__": check, "__ponder_val__": value, "__ponder_items__": items,
               "__ponder_for__": each, "__ponder_raised__": raised, "__ponder_excinfo__": ExcInfo,
               "__ponder_classes__": classes, "__ponder_val_raising__": value_raising,
               "__ponder_items_raising__": items_raising,
               "__ponder_exc_type__": exc_type, "__ponder_monkeypatch__": MonkeyPatch,
               "__ponder_capsys__": CapSys, "__ponder_tmp_path__": tmp_path, "__ponder_apply__": apply,
               "__ponder_apply_raising__": apply_raising, "__ponder_yielded__": yielded}
    for k, src in enumerate(spec["stmts"]):
        while pending:  # the last test's fixtures
            try:
                pending.pop()()
            except BaseException:
                pass
        # undo monkeypatching of builtins (print, AssertionError, isinstance...) before every test statement
        B.__dict__.clear()
        B.__dict__.update(saved)
        g.update(helpers)
        g["__ponder_builtins__"] = dict(saved)  # what operands' builtin names mean, not the program's globals
        try:
            exec(compile(src, "<test>", "exec"), g)
        except BaseException as e:
            emit({"stmt": k, "err": describe(e)})
    while pending:  # the last test's fixtures: a teardown's checks are reported too
        try:
            pending.pop()()
        except BaseException:
            pass
    emit({"done": True})
    ex(0)

def child(spec, fd_in, w_out, w_err, w_rep):
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(fd_in, 0)
    os.dup2(w_out if w_out is not None else null, 1)
    os.dup2(w_err, 2)
    keep = 3
    if w_rep is not None:
        os.dup2(w_rep, 3)
        keep = 4
    os.closerange(keep, 1 << 16)  # includes the harness's channel to the caller: unreachable from here on
    os.setsid()
    cpu = spec["cpu"]
    for lim, val in ((resource.RLIMIT_CPU, (cpu, cpu + 1)), (resource.RLIMIT_AS, (spec["mem"],) * 2),
                     (resource.RLIMIT_NPROC, (spec["nproc"],) * 2), (resource.RLIMIT_FSIZE, (spec["fsize"],) * 2),
                     (resource.RLIMIT_NOFILE, (256, 256)), (resource.RLIMIT_CORE, (0, 0))):
        if val[0] is not None:
            resource.setrlimit(lim, val)
    uid = spec["uid"]
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    elif spec["pidns"]:
        drop_capabilities()
    if not spec["pidns"]:
        try:  # a credential change clears the parent-death signal; set it again so the child dies with us
            import ctypes
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
        except Exception:
            pass
    deny_memfd()
    if spec["audit"]:
        root = os.path.realpath(os.getcwd())
        me = os.getpid()
        sys.addaudithook(audit_hook(root, lambda: (me, os.getpid(), 0, -me), spec["nofork"]))
    run_program(spec)

def drop_capabilities():
    # Through a user namespace (the caller not root) the child is that namespace's root, with all its
    # capabilities: it could umount the private /tmp and write to the real one, ptrace the harness, remount what
    # it reads. All are dropped, from the bounding set too, and root regains none at exec (securebits, locked).
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    def ok(r, what):
        if r != 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e) + ": " + what)
    cap = 0
    while libc.prctl(24, cap, 0, 0, 0) == 0:  # PR_CAPBSET_DROP, until EINVAL past the last capability
        cap += 1
    ok(libc.prctl(28, 0x2F, 0, 0, 0), "securebits")  # NOROOT, NO_SETUID_FIXUP, KEEP_CAPS_LOCKED, each locked
    ok(libc.capset((ctypes.c_uint32 * 2)(0x20080522, 0), (ctypes.c_uint32 * 6)()), "capset")  # version 3: none
    ok(libc.prctl(38, 1, 0, 0, 0), "no_new_privs")

def deny_memfd():
    # A memfd holds memory no limit sees: RLIMIT_AS does not count it unmapped, and 256 of 16 MiB (RLIMIT_NOFILE,
    # RLIMIT_FSIZE) are 4 GiB a process, 128 GiB a run of NPROC processes. A seccomp filter makes memfd_create
    # fail with EPERM (x86-64 and aarch64; elsewhere it stays open). Files in /tmp or /dev/shm are bounded instead.
    import ctypes, platform
    arch, nr = {"x86_64": (0xC000003E, 319), "aarch64": (0xC00000B7, 279)}.get(platform.machine(), (0, 0))
    if not arch:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    deny, allow = 0x00050000 | 1, 0x7FFF0000  # SECCOMP_RET_ERRNO | EPERM, SECCOMP_RET_ALLOW
    prog = [(0x20, 0, 0, 4), (0x15, 0, 4, arch), (0x20, 0, 0, 0),  # the arch (else allow), the syscall number
            (0x15, 1, 0, nr), (0x15, 0, 1, nr | 0x40000000),  # memfd_create (or x32's) denied, all else allowed
            (0x06, 0, 0, deny), (0x06, 0, 0, allow)]
    filt = (ctypes.c_uint64 * len(prog))(*(c | jt << 16 | jf << 24 | k << 32 for c, jt, jf, k in prog))
    fprog = (ctypes.c_uint64 * 2)(len(prog), ctypes.addressof(filt))
    zero = ctypes.c_ulong(0)
    if (libc.prctl(38, ctypes.c_ulong(1), zero, zero, zero) != 0  # PR_SET_NO_NEW_PRIVS
            or libc.prctl(22, ctypes.c_ulong(2), fprog, zero, zero) != 0):  # PR_SET_SECCOMP, a filter
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e) + ": seccomp")

def expose_python(extra):
    # The unprivileged child must reach the interpreter's files. A directory such as /root (0700) on the way
    # is covered, in this private mount namespace only, by a 0755 tmpfs into which exactly the needed
    # directories are bind-mounted back (through /proc/self/fd, since the tmpfs hides their old paths).
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    def mount(src, dst, fstype, flags, data):
        args = [x.encode() if x is not None else None for x in (src, dst, fstype)]
        if libc.mount(args[0], args[1], args[2], flags, data.encode() if data else None) != 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e) + ": mount " + dst)
    paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path, *extra]
    needed = sorted({os.path.abspath(p) for p in paths if p and os.path.isdir(p)})
    tops = []
    for p in needed:
        if not any(p == t or p.startswith(t + "/") for t in tops):
            tops.append(p)
    blockers = set()
    for p in tops:
        parts = p.split("/")
        for i in range(2, len(parts)):  # strict ancestors only
            a = "/".join(parts[:i])
            if not os.stat(a).st_mode & 0o001:
                blockers.add(a)
                break
    blockers = [b for b in blockers if not any(b.startswith(o + "/") for o in blockers)]
    moved = [p for p in tops if any(p.startswith(b + "/") for b in blockers)]
    if not moved:
        return
    fds = [os.open(p, os.O_PATH | os.O_DIRECTORY) for p in moved]
    for b in blockers:
        mount("tmpfs", b, "tmpfs", 2 | 4, "mode=755,size=1m")  # MS_NOSUID | MS_NODEV
    for p, fd in zip(moved, fds):
        os.makedirs(p, 0o755, exist_ok=True)
        mount("/proc/self/fd/%d" % fd, p, None, 4096 | 16384, None)  # MS_BIND | MS_REC
        os.close(fd)

def private_tmp(spec):
    # Files the program leaves in /tmp, /var/tmp or /dev/shm outlived the run: 16 MiB a file, any number of
    # files, a training run's disk (or RAM) filled by its rollouts. In this private mount namespace each of
    # them, and the run's directory, is a fresh tmpfs of bounded size, gone with the namespace. A directory
    # holding the interpreter's files (a venv under /tmp) is left as it is. /run/lock (/var/lock) and /var/crash
    # are world-writable too on Debian and Ubuntu: files there outlived the run, in RAM for /run/lock.
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    def mount(dst, data):
        if libc.mount(b"tmpfs", dst.encode(), b"tmpfs", 2 | 4, data.encode()) != 0:  # MS_NOSUID | MS_NODEV
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e) + ": mount " + dst)
    size = "size=%dk" % (spec["tmpfs"] >> 10)
    own = ",uid=%d,gid=%d" % (spec["uid"], spec["uid"]) if spec["uid"] is not None else ""
    python = [os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path)
              if p and os.path.isabs(p)]  # (not a path hook such as "__editable__...finder")
    for d in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/crash"):
        if (not os.path.islink(d) and os.path.isdir(d) and os.stat(d).st_mode & 0o002
                and not any(p == d or p.startswith(d + "/") for p in python)):
            mount(d, "mode=1777," + size)
    cwd = spec["cwd"]
    if os.path.isdir(cwd):  # not under one of those: a tmpfs of its own
        mount(cwd, "mode=700," + size + own)
    else:  # under a fresh one now: made again there
        os.makedirs(cwd, 0o700)
        if spec["uid"] is not None:
            os.chown(cwd, spec["uid"], spec["uid"])

def kill_all(spec, pid):
    if spec["pidns"] and os.getpid() == 1:  # never kill(-1) unless we really are init of our own namespace
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
    elif spec["uid"] is not None:
        h = os.fork()
        if h == 0:
            try:
                os.setgid(spec["uid"])
                os.setuid(spec["uid"])
                os.kill(-1, signal.SIGKILL)  # every process of the sandbox uid, and nothing else
            finally:
                os._exit(0)
        os.waitpid(h, 0)
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass

def run_memory():
    # resident memory of the run's processes together: RLIMIT_AS bounds each process, so NPROC forks of
    # memory_mb each held 32 times it (32 GiB: the OOM killer then takes the largest process, the trainer).
    # This namespace's /proc lists only the run's processes and us (PID 1).
    total = 0
    for name in os.listdir("/proc"):
        if name.isdigit() and name != "1":
            try:
                with open("/proc/" + name + "/statm", "rb") as f:
                    total += int(f.read().split()[1])
            except (OSError, ValueError, IndexError):
                pass  # it ended meanwhile
    return total * resource.getpagesize()

def run_case(spec, case):
    stdio = spec["mode"] == "stdio"
    r_err, w_err = os.pipe()
    r_out, w_out = os.pipe() if stdio else (None, None)
    r_rep, w_rep = (None, None) if stdio else os.pipe()
    if case.get("input") is not None:
        fd_in = os.memfd_create("stdin")
        write_all(fd_in, case["input"].encode("utf-8", "replace"))
        os.lseek(fd_in, 0, 0)
    else:
        fd_in = os.open(os.devnull, os.O_RDONLY)
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            child(spec, fd_in, w_out, w_err, w_rep)
        finally:
            os._exit(70)
    for fd in (w_err, w_out, w_rep, fd_in):
        if fd is not None:
            os.close(fd)
    caps = {r_err: 4096, r_out: spec["stdout_cap"], r_rep: spec["report_cap"]}
    lines = [0]  # of the report (the caller reads it line by line)
    bufs = {fd: [] for fd in (r_err, r_out, r_rep) if fd is not None}
    sizes = dict.fromkeys(bufs, 0)
    over = set()
    live = set(bufs)
    deadline = start + spec["timeout"]
    status, timed_out, over_memory, peak = None, False, False, 0
    watch = spec["pidns"] and os.getpid() == 1
    next_watch = start

    def drain(wait):
        ready = select.select(list(live), [], [], wait)[0] if live else []
        for fd in ready:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                live.discard(fd)
            elif sizes[fd] < caps[fd] or fd == r_err:
                bufs[fd].append(chunk)
                sizes[fd] += len(chunk)
                if fd == r_rep:
                    lines[0] += chunk.count(b"\n")
                    if lines[0] > spec["report_lines"]:
                        over.add(fd)
                if fd == r_err and sizes[fd] > 8192:  # keep the tail of stderr only
                    tail = b"".join(bufs[fd])[-4096:]
                    bufs[fd], sizes[fd] = [tail], len(tail)
                elif sizes[fd] > caps[fd] and fd != r_err:
                    over.add(fd)
            else:
                over.add(fd)
        return ready

    while True:
        now = time.monotonic()
        if now >= deadline:
            timed_out = True
            break
        if live:
            drain(min(deadline - now, 0.01 if watch else 0.05))
        else:
            time.sleep(min(deadline - now, 0.005))
        if over - {r_err}:  # past the output cap it has failed: an endless print loop ends here, not at the timeout
            break
        if watch and now >= next_watch:
            next_watch = now + 0.01
            if run_memory() > spec["mem"]:
                over_memory = True
                break
        wpid, st, usage = os.wait4(pid, os.WNOHANG)
        if wpid:
            status, peak = st, usage.ru_maxrss
            break
    while live and time.monotonic() < deadline and drain(0):  # what the child wrote before it ended
        pass
    kill_all(spec, pid)
    if status is None:
        _, status, usage = os.wait4(pid, 0)
        peak = usage.ru_maxrss
    if spec["pidns"] and os.getpid() == 1:
        while True:  # reap orphans re-parented to us
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
    for fd in bufs:
        os.close(fd)
    code = os.waitstatus_to_exitcode(status)
    if code == -signal.SIGXCPU:
        timed_out = True
    text = lambda fd: b"".join(bufs[fd]).decode("utf-8", "replace") if fd is not None else None
    overflow = bool(over - {r_err})
    # stdout goes back as its size and the digest of its normalised text (the caller compares), and, for the
    # caller's tolerant comparison of real numbers, small output as that normalised text (lines of tokens):
    # within fixed bounds per case and per run, never derived from the expected output
    digest = tokens = None
    if r_out is not None and not overflow:
        kept = [] if sizes[r_out] <= min(spec["tokens_cap"], spec["tokens_left"]) else None
        digest = output_digest(text(r_out), kept)
        if kept is not None:
            spec["tokens_left"] -= sizes[r_out]
            tokens = b"".join(kept).decode("utf-8", "replace")
    return {"status": code, "timeout": timed_out, "memory": over_memory, "peak_kib": peak,
            "seconds": round(time.monotonic() - start, 4),
            "stdout_bytes": sizes[r_out] if r_out is not None else 0, "stdout_digest": digest,
            "stdout_tokens": tokens,
            "stderr": text(r_err)[-2000:], "report": text(r_rep), "overflow": overflow}

def main():
    spec = json.loads(read_all(0))
    site_by_hand(spec["site"])  # (before expose_python, which makes sys.path's directories reachable)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    if spec["uid"] is not None and spec["pidns"]:
        expose_python([spec["cwd"]])
    if spec["pidns"]:
        private_tmp(spec)
    os.chdir(spec["cwd"])
    runs = []
    for case in spec["cases"]:
        r = run_case(spec, case)
        runs.append(r)
        if r["timeout"] or r["status"] != 0 or r["overflow"] or r["memory"]:
            break  # a failed case decides the verdict; do not spend the time on the rest
    write_all(1, json.dumps({"nonce": spec["nonce"], "runs": runs}).encode())

main()
'''


# ---------------------------------------------------------------- isolation detection

# --ipc: a System V shared memory segment outlives its processes; made in the host's IPC namespace, a run's
# segments (any size: shmall is unlimited) held the machine's memory until reboot
_ROOT_FLAGS = ["--net", "--ipc", "--pid", "--mount-proc", "--fork", "--kill-child"]
_USER_FLAGS = ["--user", "--map-root-user", *_ROOT_FLAGS]
_iso_lock = threading.Lock()
_iso: dict | None = None


def _after_fork_in_child() -> None:
    # a fork (a DataLoader, a scoring pool) while another thread held the lock through the first sandbox probe left
    # it held forever in the child: its first check_code hung, past any timeout
    global _iso_lock
    _iso_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _candidates() -> list[dict]:
    root = os.geteuid() == 0
    unshare = shutil.which("unshare")
    out = []
    if unshare:
        flags = _ROOT_FLAGS if root else _USER_FLAGS
        desc = "network+IPC+PID+mount namespaces (unshare" + ("" if root else ", user namespace") + ")"
        out.append({"name": "namespaces", "prefix": [unshare, *flags], "pidns": True, "audit": False,
                    "uid_drop": root, "description": desc})
    # without a mount namespace an unprivileged child can only run if it can reach the interpreter's files
    out.append({"name": "audit", "prefix": [], "pidns": False, "audit": True,
                "uid_drop": root and _python_reachable(), "description": "sys.addaudithook fence (no namespaces)"})
    for c in out:
        if c["uid_drop"]:
            c["description"] += ", unprivileged random uid"
    return out


def _python_reachable() -> bool:
    """Whether a process of another uid can traverse to every directory the interpreter imports from."""
    for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path}:
        p = os.path.abspath(p or ".")
        parts = p.split("/")
        for i in range(2, len(parts) + 1):
            try:
                if not os.stat("/".join(parts[:i])).st_mode & 0o001:
                    return False
            except OSError:
                break
    return True


class _NoStart(PonderError):
    """The isolation probe's sandbox could not start (see _no_start); `reason` is the verdict's."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def _isolation(name: str = "auto") -> dict:
    """The isolation to use: probed once per process by running a tiny real check in each candidate."""
    global _iso
    cands = _candidates()
    if name != "auto":
        for c in cands:
            if c["name"] == name:
                return c
        raise PonderError(f"code sandbox: isolation {name!r} is not available here; "
                          f"choose from {['auto'] + [c['name'] for c in cands]}")
    with _iso_lock:
        if _iso is None:
            for c in cands:
                # a real run, including an import the harness has not made: it proves the child reaches the stdlib
                v = _run_checked("import fractions\nx = int(fractions.Fraction(41))\n", "assert x + 1 == 42",
                                 timeout=10.0, iso=c)
                if v.reason.startswith(_NO_START):
                    # no sandbox could start at all (fork refused...): nothing is learnt of this candidate, and
                    # falling back to the next, the weaker audit fence, for good on a transient failure is wrong
                    raise _NoStart(f"code sandbox: {v.reason[len('sandbox error: '):]}", v.reason)
                if v.correct:
                    _iso = c
                    break
            else:
                raise PonderError(f"code sandbox: no isolation works on this machine "
                                  f"(tried {[c['name'] for c in cands]}; last: {v.reason})")
            if _iso["audit"]:  # said once per process, where the weaker fence is all there is
                print("ponder: code sandbox: namespaces are refused on this machine, so model-written code runs "
                      "behind a Python audit-hook fence only, which a hostile program can get past (signal the "
                      "caller through a pidfd, read its memory through /proc, write outside its directory "
                      "through dir_fd); run untrusted code where `unshare` works", file=sys.stderr)
        return _iso


def sandbox_info() -> dict:
    """Which isolation `check_code` uses on this machine (probes on first call)."""
    c = _isolation()
    return {"isolation": c["name"], "description": c["description"], "pid_namespace": c["pidns"],
            "audit_hook": c["audit"], "uid_drop": c["uid_drop"]}


# ---------------------------------------------------------------- tests: rewriting and judging

_OPS = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
        ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
        ast.NotIn: lambda a, b: a not in b, ast.Is: operator.is_, ast.IsNot: operator.is_not}
# Every operator a test's expected value may be written with (`2 ** 10`, `1 << 20`, `~0`): an operator the caller
# does not apply sends its operands to the sandbox as code, and a program can run that code itself (it finds the
# lambda in its caller's frame) and return the expected value.
_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
           ast.LShift: operator.lshift, ast.RShift: operator.rshift, ast.BitOr: operator.or_,
           ast.BitAnd: operator.and_, ast.BitXor: operator.xor}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}
_MAX_BITS = 1 << 20  # caller-side arithmetic on values the program chose: keep it cheap
_MAX_LEN = 10_000_000  # elements (characters) one caller-side operation may build
_MAX_WORK = 1 << 26  # all the caller-side work for one run, in the same units (see _Evaluator)
# a Fraction's numerator and denominator (bits), a Decimal's digits and exponent, that the caller rebuilds: an
# exact answer is small, and arithmetic on them here (gcds, text of 10 ** exponent) stays cheap
_EXACT_BITS = 1 << 16
_EXACT_DIGITS = 4300
_MAX_FRACTIONS_SUMMED, _SUM_BITS = 10_000, 1 << 12  # sum() of Fractions (H(1000)'s denominator has 1,400 bits)
class _Scope(dict):
    """The variables of one comprehension as the caller evaluates it. Python gives a comprehension one scope,
    its variables rebound item by item, and what it creates (a generator expression) reads the enclosing ones
    live, as a closure does: `[list(g) for g in [(x for _ in range(1)) for x in range(3)]]` is [[2], [2], [2]],
    each inner generator run after the loop moved on to x = 2. So one scope per comprehension, not a copy per
    item, and a name not bound here is looked up in the scope around it, as it stands then. A variable of this
    comprehension read before its `for` bound it is unbound, not the outer one of that name (Python's
    UnboundLocalError)."""

    __slots__ = ("outer", "names")

    def __init__(self, outer, names: frozenset[str]):
        super().__init__()
        self.outer, self.names = outer, names

    def __missing__(self, name):
        if name in self.names or self.outer is None:
            raise KeyError(name)
        return self.outer[name]


def _pattern_names(pattern) -> set[str]:
    """The names a `for` target pattern (see _target_pattern) binds."""
    if pattern[0] == "name":
        return {pattern[1]}
    return set().union(*(_pattern_names(p) for p in pattern[1]))


_MAX_PROJECTED = 10_000  # items of a comprehension's known iterable that are sent to the sandbox as data
_COMP_NODE_WORK = 64  # per tree node evaluated for an item of a comprehension the caller evaluates alone


class _TestFailed(Exception):
    pass


def _apply(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except _TestFailed:
        raise
    except Exception as e:  # e.g. 1 < "a", 1 / 0, [1][5]: a failed test, as in Python
        raise _TestFailed(type(e).__name__) from None


def _range(*args):
    r = range(*args)
    try:
        n = len(r)
    except OverflowError:
        n = _MAX_LEN + 1
    if n > _MAX_LEN:  # `sum(range(f(x)))` must not keep the caller busy for ever
        raise _TestFailed("range too large")
    return r


def _bytearray(*args):
    # bytearray(n) of a program's n is n zero bytes
    if args and type(args[0]) is int and args[0] > _MAX_LEN:
        raise _TestFailed("bytearray too large")
    return bytearray(*args)


def _sum(iterable, /, start=0):
    """sum(), except that adding up lists or tuples (`sum(rows, [])`) is linear and capped, not quadratic."""
    items = list(iterable)
    if type(start) in (list, tuple):
        if any(type(x) is not type(start) for x in items):
            raise TypeError("can only concatenate sequences of the same type")
        if len(start) + sum(len(x) for x in items) > _MAX_LEN:
            raise _TestFailed("sum too large")
        return type(start)(itertools.chain(start, *items))
    if any(type(x) is fractions.Fraction for x in items):
        # each addition reduces by a gcd of the total so far: 1/p for 10 ** 5 distinct primes p would grow it
        # to millions of bits, each step slower than the last
        total = start
        for x in itertools.islice(items, _MAX_FRACTIONS_SUMMED + 1):
            total += x
            if type(total) is fractions.Fraction and total.denominator.bit_length() > _SUM_BITS:
                raise _TestFailed("sum of fractions too large")
        if len(items) > _MAX_FRACTIONS_SUMMED:
            raise _TestFailed("sum of fractions too long")
        return total
    return sum(items, start)


def _str(obj="", *args, **kwargs):
    # str() of a value the program chose (or of a list repeating it) must not build gigabytes of text
    if not args and not kwargs and _text_bound(obj) > _MAX_LEN:
        raise _TestFailed("str too large")
    return str(obj, *args, **kwargs)


def _round(number, ndigits=None):
    # round(int, -n) and round(Fraction, n) compute 10 ** n: a program-chosen n could keep the caller busy
    if type(number) is not float and type(ndigits) is int and abs(ndigits) > 4300:
        raise _TestFailed("round: too many digits")
    return round(number, ndigits)


def _power_check(a, b, mod=None) -> None:
    """Refuse a power whose result (or, modular, whose work) is out of proportion."""
    if type(b) is fractions.Fraction and b.denominator == 1:  # `2 ** Fraction(-10 ** 9)` is exact: 1 / 2 ** 10 ** 9
        b = abs(b.numerator)
    if type(a) is fractions.Fraction and isinstance(b, int):  # as large as the power of its larger part
        a, b = max(abs(a.numerator), a.denominator), abs(b)
    if not (isinstance(a, int) and isinstance(b, int)):
        return
    if any(isinstance(x, int) and x.bit_length() > _MAX_BITS for x in (a, b, mod)):
        raise _TestFailed("integer too large")
    if mod is not None:
        if isinstance(mod, int) and b.bit_length() * (mod.bit_length() // 64 + 1) ** 2 > _MAX_WORK:
            raise _TestFailed("power too costly")
    elif b > 0 and abs(a) > 1 and b * (a.bit_length() - 1) > _MAX_BITS:  # |a| ** b has at least that many bits
        raise _TestFailed("power too large")


def _pow(base, exp, mod=None):
    _power_check(base, exp, mod)
    return pow(base, exp, mod)


def _divmod(a, b):
    if any(type(x) is int and x.bit_length() > _MAX_BITS for x in (a, b)):
        raise _TestFailed("integer too large")
    return divmod(a, b)


def _text(fn):
    """repr()/ascii() of a value the program chose (or a list repeating it) must not build gigabytes."""
    def call(obj, /):
        if _text_bound(obj) > _MAX_LEN:
            raise _TestFailed(f"{fn.__name__}: text too large")
        return fn(obj)
    return call


def _digits(fn):
    """hex/oct/bin: linear, but a program-chosen int of 10 ** 8 bits must not become 10 ** 8 digits."""
    def call(n, /):
        if type(n) is int and n.bit_length() + 3 > _MAX_LEN:
            raise _TestFailed(f"{fn.__name__}: integer too large")
        return fn(n)
    return call


def _format_builtin(value, format_spec="", /):
    # format(x, spec) is one field of str.format: the same bounds (`format(1, '>1000000000')` fails the test)
    return _Formatter().format_field(value, format_spec)


def _exact(cls):
    """Fraction(...) / Decimal(...) of the tests' values: ints, texts and the parts of Fractions kept small."""
    def call(*args):
        for x in args:
            if (type(x) not in (str, int, bool, float, fractions.Fraction, decimal.Decimal)
                    or type(x) is str and len(x) > 2 * _EXACT_DIGITS
                    or type(x) is int and x.bit_length() > _EXACT_BITS
                    or type(x) is fractions.Fraction and x.denominator.bit_length() > _EXACT_BITS
                    or type(x) is decimal.Decimal and x.is_finite() and abs(x.adjusted()) > _EXACT_DIGITS):
                raise _TestFailed(f"{cls.__name__}: argument too large, or no number or text")
        return cls(*args)
    return call


def _almost_equal(first, second, places, delta, near: bool) -> bool:
    """unittest's assertAlmostEqual (`near`) or assertNotAlmostEqual: equal values are almost equal (infinities,
    lists), else abs(first - second) <= delta, or round(abs(first - second), places) == 0 (places 7)."""
    equal = first == second
    if near and equal:
        return True
    diff = abs(first - second)
    close = diff <= delta if delta is not None else _round(diff, 7 if places is None else places) == 0
    return close if near else not equal and not close


def _count_equal(first, second) -> bool:
    """unittest's assertCountEqual: the same items as often, counted (hashable) or matched by == (unhashable or
    unorderable: `[{'a': 1}, [2]]`), as unittest decides."""
    a, b = list(first), list(second)
    _hash_guard("assertCountEqual", a)
    _hash_guard("assertCountEqual", b)
    try:
        return collections.Counter(a) == collections.Counter(b)
    except TypeError:
        pass
    if len(a) != len(b):
        return False
    try:  # equal once sorted: the same items (a partial order, of sets, may sort equal items apart: matched below)
        if sorted(a) == sorted(b):
            return True
    except TypeError:
        pass
    if _deep_len(a, _MAX_WORK) * max(len(b), 1) > _MAX_WORK:  # each item of a compared with those of b
        raise _TestFailed("assertCountEqual: too costly")
    rest = list(b)
    for x in a:
        k = next((k for k, y in enumerate(rest) if x == y), None)
        if k is None:
            return False
        del rest[k]
    return True


def _is_floats(x) -> bool:
    # EvalPlus's is_floats on a value here (an array is the list it holds, so its dtype is its items' type)
    return isinstance(x, float) or isinstance(x, (list, tuple)) and all(isinstance(i, float) for i in x)


def _evalplus(out, exp, atol, form: str) -> bool:
    """EvalPlus's `assertion(out, exp, atol)` in the `form` _evalplus_asserts found the tests' copy of it to be:
    equal, or, where the expected value is a float or a list or tuple of floats (or `atol` is given) and they
    differ, NumPy's allclose (rtol 1e-07) or assert_allclose within `atol` (1e-06 by default); the "sets" form
    first compares booleans as they are and a list or tuple against another as sets."""
    if form == "sets" and (isinstance(out, bool) or isinstance(exp, bool)):
        return out == exp
    if atol == 0 and _is_floats(exp):
        atol = 1e-6
    if form == "sets" and isinstance(out, (list, tuple)) and isinstance(exp, (list, tuple)):
        out, exp = _hashed(set)(out), _hashed(set)(exp)
    if out != exp and atol != 0:
        if form == "assert_allclose":
            return _FUNCS["numpy.testing.assert_allclose"](out, exp, atol=atol)
        return _FUNCS["numpy.allclose"](out, exp, rtol=1e-07, atol=atol)
    return out == exp


def _int_args(fn, limit: int):
    """A math function of ints whose cost grows with their size: arguments over `limit` fail the test."""
    def call(*args):
        if any(isinstance(x, int) and abs(x) > limit for x in args):
            raise _TestFailed(f"{fn.__name__}: argument too large")
        return fn(*args)
    return call


class _Approx:
    """`pytest.approx(expected, rel=None, abs=None, nan_ok=False)` built by the caller, compared as pytest
    compares (a number, a flat list or tuple of them, a dict of them: 1e-6 relative or 1e-12 absolute by default,
    only `abs` when only it is given, infinity equal only to itself): run in the sandbox, it would be the
    program's pytest and its value no plain one."""

    __hash__ = None

    def __init__(self, expected, rel=None, abs=None, nan_ok=False):
        for tol in (rel, abs):
            if tol is not None and (type(tol) not in (int, float) or not tol >= 0 or math.isinf(tol)):
                raise ValueError("pytest.approx: a tolerance must be a non-negative number")
        t = type(expected)
        items = expected.values() if t is dict else expected if t in (list, tuple) else ()
        if any(isinstance(x, (list, tuple, dict)) for x in items):
            raise TypeError("pytest.approx() does not support nested data structures")
        self.expected, self.rel, self.abs, self.nan_ok = expected, rel, abs, nan_ok

    def _one(self, actual, expected) -> bool:
        if type(expected) is bool and type(actual) is not bool:
            return False
        if actual == expected:
            return True
        numbers = (int, float, complex)
        if type(expected) is bool or not isinstance(expected, numbers) or not isinstance(actual, numbers):
            return False
        if math.isnan(abs(expected)):
            return bool(self.nan_ok) and math.isnan(abs(actual))
        if math.isinf(abs(expected)):
            return False
        tol = 1e-12 if self.abs is None else self.abs
        if self.rel is not None or self.abs is None:
            tol = max((1e-6 if self.rel is None else self.rel) * abs(expected), tol)
        return abs(expected - actual) <= tol

    def __eq__(self, actual) -> bool:
        e = self.expected
        if type(e) is dict:
            return (isinstance(actual, dict) and set(actual) == set(e)
                    and all(self._one(actual[k], e[k]) for k in e))
        if type(e) in (list, tuple):
            try:
                if len(actual) != len(e):
                    return False
            except TypeError:
                return False
            return all(self._one(a, x) for a, x in zip(actual, e))
        return self._one(actual, e)


# Pure builtins the CALLER applies to rebuilt plain values, so `abs(f(x) - 2.0) < 1e-6` or
# `sorted(f(x)) == [1, 2]` is decided outside the sandbox: an object whose `__sub__` returns 0.0 never gets
# that far, because f(x) alone must serialise as a plain value. These names mean the real builtins, whatever
# the program binds to them (a program's `def isinstance(*a): return True` changes nothing), unless the test
# binds the name itself.
def _hash_guard(name: str, keys) -> None:
    """Before a set or dict of a program's items is built here: ints (and tuples, floats of them) that share a
    hash, which the program can choose (hash(i * (2 ** 61 - 1)) is 0), are compared pairwise as they go in: 20,000
    took the caller 2.8 s, 600,000 (a report's worth) hours. Past a bound of such work the test fails."""
    groups = collections.defaultdict(list)
    try:
        for x in keys:
            groups[hash(x)].append(x)  # the keys are the hashes themselves, which do not collide
    except TypeError:
        return  # unhashable: building it raises, as in Python
    work = 0
    for group in groups.values():
        if len(group) > 64:  # how many distinct values (texts: their hashes are salted per process)
            distinct = len({_fingerprint(x) for x in group})
            work += distinct * distinct // 2
    if work > _MAX_WORK:
        raise _TestFailed(f"{name}: too many items of one hash")


def _fingerprint(x):
    try:
        return (int, hex(x)) if type(x) is int else (type(x), repr(x))
    except ValueError:  # a tuple holding an int too long for str(): as distinct as can be
        return id(x)


def _hashed(cls):
    """set(f()), frozenset(f()), Counter(f()) of a program's items (see _hash_guard)."""
    def call(iterable=(), /, **kwargs):
        if isinstance(iterable, (dict, str, bytes, bytearray)):
            return cls(iterable, **kwargs)
        items = list(_apply(iter, iterable))
        _hash_guard(cls.__name__, items)
        return cls(items, **kwargs)
    return call


def _dict(iterable=(), /, **kwargs):
    """dict(pairs) of a program's pairs (see _hash_guard)."""
    if isinstance(iterable, dict):
        return dict(iterable, **kwargs)
    pairs = list(_apply(iter, iterable))
    try:
        keys = [k for k, _ in pairs]
    except (TypeError, ValueError):
        return dict(pairs, **kwargs)  # raises as Python would
    _hash_guard("dict", keys)
    return dict(pairs, **kwargs)


# what a comprehension the caller evaluates builds
_COLLECT = {"list": list, "set": _hashed(set), "dict": _dict}


_FUNCS = {"abs": abs, "len": len, "sorted": sorted, "set": _hashed(set), "frozenset": _hashed(frozenset),
          "list": list,
          "tuple": tuple, "min": min, "max": max, "sum": _sum, "round": _round, "int": int, "float": float,
          "str": _str, "bool": bool, "any": any, "all": all, "isinstance": isinstance,
          "type": lambda obj, /: type(obj), "range": _range, "bytearray": _bytearray, "enumerate": enumerate, "zip": zip,
          "reversed": reversed, "ord": ord, "chr": chr, "hex": _digits(hex), "oct": _digits(oct),
          "bin": _digits(bin), "repr": _text(repr), "ascii": _text(ascii), "format": _format_builtin,
          "math.isclose": math.isclose, "math.fabs": math.fabs, "math.floor": math.floor, "math.ceil": math.ceil,
          "pytest.approx": _Approx, "__ponder_almost__": _almost_equal, "__ponder_count_equal__": _count_equal,
          "__ponder_evalplus__": _evalplus, "fractions.Fraction": _exact(fractions.Fraction),
          "decimal.Decimal": _exact(decimal.Decimal),
          # An expected value is often written with these (`math.factorial(10)`, `pow(2, 10)`, `dict(a=1)`): in
          # the sandbox the program could run that operand itself and return what it gives.
          "pow": _pow, "divmod": _divmod, "dict": _dict, "math.trunc": math.trunc, "math.pow": math.pow,
          "math.factorial": _int_args(math.factorial, 60_000), "math.comb": _int_args(math.comb, 100_000),
          "math.perm": _int_args(math.perm, 100_000), "math.gcd": _int_args(math.gcd, 1 << (1 << 18)),
          **{f"math.{n}": getattr(math, n) for n in ("sqrt", "exp", "log", "log2", "log10", "sin", "cos", "tan",
                                                      "asin", "acos", "atan", "atan2", "hypot", "degrees",
                                                      "radians")}}


class _Elementwise(list):
    """An array of booleans (`np.isclose` of arrays) as a list: `all(...)` of it is decided here, but its own
    truth value is ambiguous, as NumPy says (a list of any falses would be true)."""

    def __bool__(self):
        if len(self) != 1:
            raise _TestFailed("the truth value of an array of more than one element is ambiguous")
        return bool(self[0])


def _arrays(*args):
    """The arrays of `args`, refused when their broadcast shape is past _MAX_LEN elements (an (n, 1) and a (1, n)
    the program returns would build n * n here)."""
    import numpy as np

    arrays = [np.asarray(a) for a in args]
    if math.prod(np.broadcast_shapes(*(a.shape for a in arrays))) > _MAX_LEN:
        raise _TestFailed("arrays too large")
    return arrays


class _Array(list):
    """`np.array([1, 2])` built here: the list it holds, as the sandbox sends a program's array (so `==` is the
    list's), but with NumPy's arithmetic: `np.array([1, 2]) * 2` is [2, 4], not the list repeated."""


def _as_array(a):
    v = a.tolist()
    return _Array(v) if isinstance(v, list) else v  # a 0-d array is its number


def _elementwise(op):
    def call(*args):
        import numpy as np

        arrays = _arrays(*args)
        if any(a.dtype == object for a in arrays):  # Python ints past int64: `a ** b` could be any size
            raise _TestFailed("arithmetic on an array of objects")
        with np.errstate(all="ignore"):  # 1 / 0 is inf in NumPy, as the test meant
            return _as_array(np.asarray(op(*arrays)))
    return call


for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow"):
    setattr(_Array, f"__{_op}__", _elementwise(getattr(operator, _op)))
    setattr(_Array, f"__r{_op}__", _elementwise(lambda a, b, op=getattr(operator, _op): op(b, a)))
for _op in ("neg", "pos", "abs"):
    setattr(_Array, f"__{_op}__", _elementwise(getattr(operator, _op)))


def _np(name: str, kind: str):
    """NumPy's `name` applied here (see _FUNCS): an array is the list it holds (tolist), as the sandbox sends
    one; a comparison is a bool; a testing assertion is whether it held."""

    def call(*args, **kwargs):
        import numpy as np
        import numpy.testing

        if kind == "array":
            return _as_array(np.array(*_arrays(*args[:1]), *args[1:], **kwargs))
        if kind == "testing":
            try:
                getattr(numpy.testing, name)(*_arrays(*args[:2]), *args[2:], **kwargs)
            except AssertionError:
                return False
            return True
        result = np.asarray(getattr(np, name)(*_arrays(*args[:2]), *args[2:], **kwargs))
        return bool(result) if result.ndim == 0 else _Elementwise(result.tolist())

    return call


def _stat(fn):
    def call(data, /):
        data = list(itertools.islice(data, _MAX_LEN + 1))
        if len(data) > _MAX_LEN or not all(type(x) in (int, float, bool) for x in data):
            raise _TestFailed(f"{fn.__name__}: not numbers, or too many")
        if any(type(x) is int and x.bit_length() > _MAX_BITS for x in data):
            raise _TestFailed(f"{fn.__name__}: integer too large")
        return fn(data)
    return call


def _strptime(date_string, format, /):
    # the format becomes a regex, compiled here: one of 800,000 characters took the caller 109 s
    if any(isinstance(x, str) and len(x) > 1000 for x in (date_string, format)):
        raise _TestFailed("strptime: text too long")
    return datetime.datetime.strptime(date_string, format)


def _json_loads(s, /):
    if not isinstance(s, (str, bytes)) or len(s) > _MAX_LEN:
        raise _TestFailed("json.loads: not a text, or too large")
    return json.loads(s)


# NumPy, json and collections functions an expected value or a check is written with (`np.allclose(f(x), [..])`,
# `json.loads('[1]')`, `Counter('ab')`): in the sandbox the program could replace them first (`numpy.allclose =
# lambda *a, **k: True`), so the caller applies them, as math's (see _CANONICAL_MODULES)
_FUNCS.update({"numpy.array": _np("array", "array"), "numpy.asarray": _np("asarray", "array"),
               **{f"numpy.{n}": _np(n, "compare") for n in ("allclose", "isclose", "array_equal", "array_equiv")},
               **{f"numpy.testing.{n}": _np(n, "testing")
                  for n in ("assert_allclose", "assert_array_equal", "assert_equal", "assert_almost_equal",
                            "assert_array_almost_equal")},
               "json.loads": _json_loads, "json.dumps": json.dumps, "collections.Counter": _hashed(collections.Counter),
               "collections.OrderedDict": collections.OrderedDict, "collections.deque": collections.deque, "copy.copy": copy.copy,
               "copy.deepcopy": copy.deepcopy, "statistics.mean": _stat(statistics.mean),
               # an expected date or duration (`date(2020, 1, 2)`, `timedelta(days=2)`): the classes are C code
               # whose arguments are bounded (years to 9999, a timedelta to 10 ** 9 days)
               **{f"datetime.{n}": getattr(datetime, n) for n in ("date", "datetime", "time", "timedelta",
                                                                  "timezone")},
               **{f"datetime.{c}.{n}": getattr(getattr(datetime, c), n) for c, names in (
                   ("date", ("fromisoformat", "fromordinal")), ("time", ("fromisoformat",)),
                   ("datetime", ("fromisoformat", "combine"))) for n in names},
               "datetime.datetime.strptime": _strptime,
               "statistics.median": _stat(statistics.median), "statistics.fmean": _stat(statistics.fmean)})
_NP_TESTING = frozenset(n for n in _FUNCS if n.startswith("numpy.testing."))
# math constants a test may compare with (`abs(f(x) - math.pi) < 1e-9`), taken from the real module
_MATH_CONSTS = {f"math.{n}": getattr(math, n) for n in ("pi", "e", "tau", "inf", "nan")}
# and string's (`assert f() == string.ascii_lowercase`: in the sandbox the program may have set it to its answer)
_MATH_CONSTS.update({f"string.{n}": getattr(string, n) for n in (
    "ascii_letters", "ascii_lowercase", "ascii_uppercase", "digits", "hexdigits", "octdigits", "punctuation",
    "whitespace", "printable")})
# Those of them that iterate their first argument, as Python would a generator or a map the program returns.
# Builtins that iterate an argument through where they are called (all/any may stop early)
_CONSUMES = frozenset({"list", "tuple", "set", "frozenset", "sorted", "sum", "any", "all", "dict", "min", "max"})
_ITERATES = {"list", "tuple", "set", "frozenset", "sorted", "sum", "any", "all", "enumerate", "dict",
             "statistics.mean", "statistics.median", "statistics.fmean"}
# Builtin type names the caller resolves itself: `isinstance(f(x), (int, float))`, `type(f(x)) is str`.
_TYPES = {t.__name__: t for t in (int, float, complex, str, bytes, bytearray, range, bool, list, tuple, dict, set,
                                    frozenset)}
_SINGLETONS = (None, True, False)
# and datetime's (`datetime(2020, 1, 1, tzinfo=timezone.utc)`, `date.min`)
_MATH_CONSTS.update({f"datetime.{c}.{n}": getattr(getattr(datetime, c), n) for c, names in (
    ("timezone", ("utc",)), ("date", ("min", "max")), ("datetime", ("min", "max")), ("timedelta", ("min", "max")),
    ("time", ("min", "max"))) for n in names})
_MATH_CONSTS.update({"datetime.MINYEAR": datetime.MINYEAR, "datetime.MAXYEAR": datetime.MAXYEAR})


def _pad(method):
    """center/ljust/rjust/zfill: a width of 10 ** 9 must not be built."""
    def call(s, width, *rest):
        if type(width) is int and width > _MAX_LEN:
            raise _TestFailed(f"{method.__name__}: width too large")
        return method(s, width, *rest)
    return call


def _strip(method):
    def call(s, chars=None, /):
        # each stripped character is looked up in `chars`: two long strings would be quadratic
        if isinstance(chars, (str, bytes, bytearray)) and len(s) * len(chars) > _MAX_WORK:
            raise _TestFailed(f"{method.__name__}: too costly")
        return method(s, chars)
    return call


def _replace(s, old, new, count=-1, /):
    if isinstance(old, (str, bytes, bytearray)) and isinstance(new, (str, bytes, bytearray)) and type(count) is int:
        hits = len(s) + 1 if not old else len(s) // len(old)
        if len(s) + (hits if count < 0 else min(hits, count)) * len(new) > _MAX_LEN:
            raise _TestFailed("replace: result too large")
    return type(s).replace(s, old, new, count)


def _join(sep, iterable, /):
    items, size = [], 0
    for x in _apply(iter, iterable):  # an item that is not a str fails in join() below, as in Python
        size += len(sep) + (len(x) if isinstance(x, (str, bytes, bytearray)) else 0) + 1
        if size > _MAX_LEN:
            raise _TestFailed("join: result too large")
        items.append(x)
    return type(sep).join(sep, items)


def _codec(method, factor: int):
    """encode/decode: at most `factor` elements out per element in (`errors='namereplace'` gives ~90)."""
    def call(s, encoding="utf-8", errors="strict"):
        if len(s) * factor > _MAX_LEN:
            raise _TestFailed(f"{method.__name__}: too large")
        # punycode (also under idna) is pure Python and quadratic
        if type(encoding) is str and re.search("puny|idna", encoding, re.I) and len(s) > 10_000:
            raise _TestFailed(f"{method.__name__}: too costly")
        return method(s, encoding, errors)
    return call


def _to_bytes(n, length=1, byteorder="big", *, signed=False):
    if type(length) is int and length > _MAX_LEN:
        raise _TestFailed("to_bytes: length too large")
    return int.to_bytes(n, length, byteorder, signed=signed)


class _Formatter(string.Formatter):
    """str.format and f-strings for the caller: each field's text is bounded before it is built, and so is the
    whole string (`'{:>1000000000}'.format(1)` fails the test instead of building a gigabyte)."""

    def __init__(self):
        self.size = 0

    def convert_field(self, value, conversion):
        if conversion is not None and _text_bound(value) > _MAX_LEN:
            raise _TestFailed("formatted value too large")
        return super().convert_field(value, conversion)

    def format_field(self, value, format_spec):
        # every number in the spec (width, precision; a digit fill too) and the widest text of the value, in
        # binary digits for an int ('b'), twice for ',' or '_' grouping
        numbers = sum(int(d) if len(d) < 9 else _MAX_LEN + 1 for d in re.findall(r"\d+", format_spec))
        t = type(value)
        base = len(value) if t is str else value.bit_length() + 3 if t is int else _text_bound(value)
        self.size += 2 * (base + numbers) + len(format_spec)
        if self.size > _MAX_LEN:
            raise _TestFailed("formatted string too large")
        return format(value, format_spec)


def _format(fmt, /, *args, **kwargs):
    return _Formatter().vformat(fmt, args, kwargs)


def _plain_fields(fmt: str, depth: int = 0) -> bool:
    """Whether every field of a format string is a plain name or index (`{0.real}`, `{0[1]}` stay in the
    sandbox, where they always ran: the caller does not look attributes up on its values)."""
    try:
        return all(name is None or not re.search(r"[.\[]", name) and (depth > 1 or _plain_fields(spec, depth + 1))
                   for _, name, spec, _ in string.Formatter().parse(fmt))
    except ValueError:
        return True  # malformed: format() raises in the caller as it would in Python


_STR_BYTES_PURE = ("upper", "lower", "title", "capitalize", "swapcase", "lstrip", "rstrip", "strip", "split",
                   "rsplit", "splitlines", "startswith", "endswith", "find", "rfind", "index", "rindex", "count",
                   "partition", "rpartition", "removeprefix", "removesuffix", "isdigit", "isalpha", "isalnum",
                   "isspace", "isupper", "islower", "istitle", "isascii")
_BOUNDED = {"center": _pad, "ljust": _pad, "rjust": _pad, "zfill": _pad, "strip": _strip, "lstrip": _strip,
            "rstrip": _strip}
# Methods of plain values the CALLER applies when the receiver and the arguments are its own (`'ab'.upper()`,
# `', '.join(['a', 'b'])`, `(255).to_bytes(2, 'big')`): in the sandbox the program could run such an expected
# value itself. Only pure methods of builtin types; one whose result can be out of proportion is bounded.
_METHODS = {
    **{(t, n): _BOUNDED.get(n, lambda m: m)(getattr(t, n))
       for t in (str, bytes) for n in (*_STR_BYTES_PURE, "center", "ljust", "rjust", "zfill")},
    **{(str, n): getattr(str, n) for n in ("casefold", "isdecimal", "isnumeric", "isidentifier", "isprintable")},
    (str, "replace"): _replace, (bytes, "replace"): _replace, (str, "join"): _join, (bytes, "join"): _join,
    (str, "format"): _format, (str, "encode"): _codec(str.encode, 100), (bytes, "decode"): _codec(bytes.decode, 4),
    **{(t, n): getattr(t, n) for t in (list, tuple, range) for n in ("index", "count")},
    (int, "bit_length"): int.bit_length, (int, "bit_count"): int.bit_count, (int, "to_bytes"): _to_bytes,
    (float, "is_integer"): float.is_integer,
}


def _reduce(name: str):
    def call(v, /):
        import numpy as np

        return bool(getattr(np, name)(np.asarray(v)))
    return call


# `.all()`/`.any()` of an array a test builds with NumPy (`np.isclose(f(x), [1, 2]).all()`, `(a == b).all()`):
# the caller's, as the array is (see _AssertRewriter._caller_method); a bool is a comparison's, as arrays
# are compared here as the lists they hold
_METHODS.update({(t, n): _reduce(n) for t in (_Array, _Elementwise, list, int) for n in ("all", "any")})
_FUNCS.update({f"numpy.{n}": _reduce(n) for n in ("all", "any")})
_METHOD_NAMES = frozenset(n for _, n in _METHODS)


def _unbound(t, method):
    """`str.upper(s)`, `map(str.strip, xs)`: a method called through its type takes only that type."""
    def call(obj, /, *args, **kwargs):
        if type(obj) is not t:
            raise TypeError(f"descriptor of '{t.__name__}' objects doesn't apply to a '{type(obj).__name__}'")
        return method(obj, *args, **kwargs)
    return call


# The same methods called through their type, which is how `map` is given one: as an expected value
# (`list(map(str.upper, ['a']))`) the sandbox would run them for the program. Not join (it iterates a
# program's generator there) nor format (the caller reads format fields only from a format string it has
# seen).
_FUNCS.update({f"{t.__name__}.{n}": _unbound(t, fn) for (t, n), fn in _METHODS.items()
               if t in (str, bytes) and n not in ("join", "format")})
# Of these, a call with a program's value in it stays in the sandbox, as it always ran: its object's own
# __repr__/__format__/__index__ (a class of the program's is no plain value the caller could rebuild).
_OWN_ARGS_ONLY = frozenset({"hex", "oct", "bin", "repr", "ascii", "format",
                            *(n for n in _FUNCS if n.startswith(("str.", "bytes.")))})
# Iterables whose order is the same in the caller and in the sandbox (a set of strings is not: str hashes are
# salted per process), so that the caller can pair its own items with the sandbox's reports one by one.
_ORDERED_CONSTS = (list, tuple, str, bytes, dict)
_ORDERED_CALLS = {"range", "sorted", "list", "tuple", "reversed", "enumerate", "zip"}


def _hashable(v) -> bool:
    try:
        hash(v)
    except TypeError:
        return False
    return True


def _literal(expr: ast.expr):
    try:
        return True, ast.literal_eval(expr)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _is_singleton(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and any(expr.value is s for s in _SINGLETONS)


def _func_name(e: ast.expr) -> str | None:
    if isinstance(e, ast.Name):
        return e.id
    if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name):
        return f"{_MODULE_ALIASES.get(e.value.id, e.value.id)}.{e.attr}"
    if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Attribute) and isinstance(e.value.value, ast.Name):
        root = _MODULE_ALIASES.get(e.value.value.id, e.value.value.id)
        return f"{root}.{e.value.attr}.{e.attr}"  # numpy.testing.assert_allclose
    return None


def _dotted(name: str) -> ast.expr:
    first, *rest = name.split(".")
    e: ast.expr = ast.Name(first, ast.Load())
    for attr in rest:
        e = ast.Attribute(e, attr, ast.Load())
    return e


def _bindings(modules: list[ast.Module]):
    """(name, node) for each name the tests bind themselves and the node that binds it."""
    for mod in modules:
        for node in ast.walk(mod):
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                yield node.id, node
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                yield node.name, node
            elif isinstance(node, ast.arg):
                yield node.arg, node
            elif isinstance(node, ast.Import):
                yield from ((a.asname, node) for a in node.names if a.asname and a.asname != a.name)
            elif isinstance(node, ast.ImportFrom):
                yield from ((a.asname or a.name, node) for a in node.names)
            elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
                yield node.name, node
            elif isinstance(node, ast.MatchMapping) and node.rest:
                yield node.rest, node


def _bound_names(modules: list[ast.Module]) -> set[str]:
    """Names the tests bind themselves (assignments, defs, parameters, loop targets, imports...).

    Such a name is the test's own object, never the builtin of that name. `import math` is not counted: it binds
    the real module, so `math.isclose` stays the one the caller applies."""
    return {name for name, _ in _bindings(modules)}


class _DropStrings(ast.NodeTransformer):
    """The tests without their docstrings and other bare string statements, which do nothing but were sandbox
    code, where the program could read them from memory: `'''add(1, 2) should be 3'''` told it the expected
    value that the assert keeps in the caller. (A body left empty gets a `pass`.)"""

    def visit_Expr(self, node: ast.Expr):
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, (str, bytes)):
            return None
        return node

    def generic_visit(self, node):
        full = [f for f in ("body", "orelse", "finalbody") if getattr(node, f, None)]
        super().generic_visit(node)
        for f in full:
            if getattr(node, f) == []:
                setattr(node, f, [ast.copy_location(ast.Pass(), node)])
        return node


class _DropPrints(ast.NodeTransformer):
    """The tests' `print(...)` statements, which decide nothing, become `pass`: their arguments were sandbox code
    (`for x, want in CASES: r = f(x); print(x, r, want); assert r == want`, the `want` written into each copy as
    a literal, `print(f'expecting {want}')` before the call), so the program read the expected value from its
    caller's constants or locals, from what it made `sys.stdout`, or from a `print` of its own the tests called.
    Only a print whose arguments call nothing but side-effect-free builtins (`str`, `len`, `round`...) or `format`
    of a string written in the tests (`'{} != {}'.format(r, want)`; a method of a value of the program's, `print(
    s.pop())`, changes what the tests check next) and that has no `file=`; none where the tests read what is
    printed (`capsys`, `redirect_stdout`, `sys.stdout`...) or bind `print` themselves, nor in a `try` or `with`
    body (what the print raises may be what the tests expect: `with pytest.raises(KeyError): print(d['x'])`)."""

    _SAFE = frozenset({"str", "repr", "len", "format", "round", "abs", "int", "float", "bool", "type", "isinstance",
                       "hex", "bin", "oct", "chr", "ord", "ascii", "id"})
    _CAPTURE = frozenset({"capsys", "capfd", "capsysbinary", "capfdbinary", "stdout", "redirect_stdout",
                          "StringIO", "getvalue"})

    def __init__(self, modules: list[ast.Module]):
        self.guard = 0  # inside how many `try`/`with` bodies
        # (`builtins.print = ...` too: an attribute named print)
        self.on = not (_bound_names(modules) & ({"print"} | self._SAFE)) and not any(
            n.id in self._CAPTURE if isinstance(n, ast.Name) else n.attr in self._CAPTURE | {"print"}
            for mod in modules for n in ast.walk(mod) if isinstance(n, (ast.Name, ast.Attribute)))

    def _safe(self, e: ast.expr) -> bool:
        for n in ast.walk(e):
            if isinstance(n, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr, ast.Starred)):
                return False
            if isinstance(n, ast.Call) and not (
                    isinstance(n.func, ast.Name) and n.func.id in self._SAFE
                    or isinstance(n.func, ast.Attribute) and n.func.attr == "format"
                    and isinstance(n.func.value, ast.Constant) and isinstance(n.func.value.value, str)):
                return False
        return True

    def _guarded(self, node):
        # a print in a `try` or `with` body may be how the tests raise what they expect (`with pytest.raises(
        # KeyError): print(d['x'])`, `try: print(r[5])` / `except IndexError: ok = True`): it stays, as written
        self.guard += 1
        try:
            return self.generic_visit(node)
        finally:
            self.guard -= 1

    visit_Try = visit_TryStar = visit_With = visit_AsyncWith = _guarded

    def visit_Expr(self, node: ast.Expr):
        c = node.value
        if (self.on and not self.guard and isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id == "print"
                and all(k.arg in ("sep", "end", "flush") for k in c.keywords)
                and all(self._safe(a) for a in [*c.args, *(k.value for k in c.keywords)])):
            return ast.copy_location(ast.Pass(), node)
        return node

    def visit_If(self, node: ast.If):
        # `if r != want: print('FAIL', r, want)` (an assert after it): with its print gone it does nothing, but its
        # condition held the expected value too
        node = self.generic_visit(node)
        if (self.on and not node.orelse and all(isinstance(s, ast.Pass) for s in node.body)
                and self._safe(node.test)):
            return ast.copy_location(ast.Pass(), node)
        return node


# EvalPlus's comparison helper, as HumanEval+ and MBPP+ tests hold it (their test files, and datasets built on
# them), after _canonical_imports (`np` is `numpy`): the forms _evalplus_asserts recognises, each decided by
# _evalplus. Its `is_floats`, which the helper calls, must be _EVALPLUS_IS_FLOATS.
_EVALPLUS_IS_FLOATS = """
def is_floats(x):
    if isinstance(x, float):
        return True
    if isinstance(x, (list, tuple)):
        return all(isinstance(i, float) for i in x)
    if isinstance(x, numpy.ndarray):
        return x.dtype == numpy.float64 or x.dtype == numpy.float32
    return False
"""
_EVALPLUS_EXACT = """
def assertion(out, exp, atol):
    exact_match = out == exp
    if atol == 0 and is_floats(exp):
        atol = 1e-6
    if not exact_match and atol != 0:
        {close}
    else:
        assert exact_match
"""
_EVALPLUS_NE = """
def assertion(out, exp, atol):
    if atol == 0 and is_floats(exp):
        atol = 1e-6
    if out != exp and atol != 0:
        assert numpy.allclose(out, exp, rtol=1e-07, atol=atol)
    else:
        assert out == exp
"""
_EVALPLUS_SETS = """
def assertion(out, exp, atol):
    if isinstance(out, bool) or isinstance(exp, bool):
        assert out == exp
        return
    if atol == 0 and is_floats(exp):
        atol = 1e-6
    if isinstance(out, (list, tuple)) and isinstance(exp, (list, tuple)):
        out = set(out)
        exp = set(exp)
    if out != exp and atol != 0:
        assert numpy.allclose(out, exp, rtol=1e-07, atol=atol)
    else:
        assert out == exp
"""
_EVALPLUS_FORMS = {
    "allclose": _EVALPLUS_EXACT.format(close="assert numpy.allclose(out, exp, rtol=1e-07, atol=atol)"),
    "assert_allclose": _EVALPLUS_EXACT.format(close="numpy.testing.assert_allclose(out, exp, atol=atol)"),
    "ne": _EVALPLUS_NE, "sets": _EVALPLUS_SETS}


def _shape(fn: ast.FunctionDef, names: dict[str, str]) -> str | None:
    """`fn`'s parameters and body as a text to compare, its parameters and the names in `names` renamed (a
    parameter `a` is `p0`...), assert messages, annotations and decorators left out; None if it has any but
    plain parameters."""
    a = fn.args
    if a.posonlyargs or a.vararg or a.kwonlyargs or a.kwarg or a.defaults or fn.decorator_list:
        return None
    rename = {p.arg: f"p{k}" for k, p in enumerate(a.args)} | names

    class Rename(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name):
            return ast.Name(rename.get(node.id, node.id), node.ctx)

        def visit_Assert(self, node: ast.Assert):
            return ast.Assert(self.visit(node.test), None)

    body = [Rename().visit(copy.deepcopy(stmt)) for stmt in fn.body]
    return f"{len(a.args)} " + " ".join(ast.dump(stmt) for stmt in body)


@functools.cache
def _evalplus_shapes() -> tuple:
    """The shapes of EvalPlus's is_floats and of its helper's forms, parsed once (under the verifiers' parse lock:
    ast.parse is not thread-safe in CPython 3.11)."""
    floats = _shape(parse_python(_EVALPLUS_IS_FLOATS).body[0], {"is_floats": "F"})
    return floats, {_shape(parse_python(src).body[0], {"is_floats": "F"}): form for form, src in _EVALPLUS_FORMS.items()}


def _evalplus_asserts(modules: list[ast.Module]) -> None:
    """Each statement `assertion(out, exp, atol)` (three positional arguments) that calls EvalPlus's helper
    (a top-level function of the tests in one of _EVALPLUS_FORMS, its `is_floats` one too, each bound once,
    `numpy` the module) becomes `assert __ponder_evalplus__(out, exp, atol, form)`, which the caller decides
    (_evalplus), and the helper is dropped when nothing else reads it. Run as written, the helper's two asserts,
    one per branch of an `if` on the program's value, were each a test that had to be reported: every program
    failed the one it never reached (`failed test 1`); and the sandbox decided `out == exp` with the program's
    object's own `__eq__`. Rewritten, the written-out loop (`for i, (inp, exp) in enumerate(zip(inputs,
    results)):`) keeps each expected value here, as any assert's."""
    binds: dict[str, int] = {}
    for name, _ in _bindings(modules):
        binds[name] = binds.get(name, 0) + 1
    if "numpy" in binds:
        return
    defs = {s.name: s for mod in modules for s in mod.body if isinstance(s, ast.FunctionDef) and binds[s.name] == 1}
    floats, forms = _evalplus_shapes()
    helpers: dict[str, str] = {}
    for name, fn in defs.items():
        called = {n.func.id for n in ast.walk(fn) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        for f in called & set(defs):
            form = forms.get(_shape(fn, {f: "F"}))
            # (a name of theirs other than the parameters, `set = ...`, would not be the builtin the form means)
            own = {n.id if isinstance(n, ast.Name) else n.arg for g in (fn, defs[f]) for n in ast.walk(g)
                   if isinstance(n, ast.arg) or isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
            free = {n.id for g in (fn, defs[f]) for n in ast.walk(g) if isinstance(n, ast.Name)} - own - {f}
            if form is not None and _shape(defs[f], {f: "F"}) == floats and not free & set(binds):
                helpers[name] = form
    if not helpers:
        return

    class Calls(ast.NodeTransformer):
        def visit_Expr(self, node: ast.Expr):
            call = node.value
            # (an expected value a function of the tests computes, `ref_func(*inp)`, is the sandbox's either way:
            # sent here, it and the program's doubled the report, past its cap for HumanEval+'s long outputs)
            if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in helpers
                    and len(call.args) == 3 and not call.keywords
                    and not any(isinstance(x, ast.Starred) for x in call.args)
                    and not any(isinstance(n, ast.Call) for n in ast.walk(call.args[1]))):
                test = _call("__ponder_evalplus__", *call.args, ast.Constant(helpers[call.func.id]))
                return ast.copy_location(ast.Assert(test, None), node)
            return node

    for mod in modules:
        Calls().visit(mod)
        read = {n.id for n in ast.walk(mod) if isinstance(n, ast.Name)}
        mod.body = [s for s in mod.body if not (isinstance(s, ast.FunctionDef) and s.name in helpers
                                                and s.name not in read)]
        ast.fix_missing_locations(mod)


def _inline_predicates(modules: list[ast.Module]) -> None:
    """A call in an assert of a top-level function of the tests that only returns an expression of its parameters
    (`def close(a, b, eps=1e-6): return abs(a - b) < eps`, `def same(a, b): return a == b`) is that expression, the
    call's arguments in place of the parameters: `assert close(f(2), 4.0)` is `assert abs(f(2) - 4.0) < 1e-6`,
    whose 4.0 stays in the caller. Called in the sandbox, the function held the expected value as its argument
    (a program read it from its caller's constants) and decided the comparison there (an object of the
    program's whose `__eq__` says True passed `same`). Only where that is what Python computes: a function bound
    once, plain parameters (defaults written in the tests), its other names bound nowhere in the tests; an
    argument that calls anything read exactly once by the expression (not run twice, or never), at most one such.
    So is such a call where an assignment or a `for` loop's iterable takes its value (`x, want = ident(case)`,
    `for x, want in cases():`), which the caller may then bind or write out; a function every call of which is
    written in is left out of what the sandbox runs. A lambda bound once (`ident = lambda v: v`) is such a
    function too, and so is one a function of the tests defines at the top of its body, for the calls after it
    there, and a class's method (reading no `self`) called on the object its class's methods are given,
    `self.want_for(x)`, where no class of the tests derives from that one and nothing stores such an attribute."""
    binds: dict[str, int] = {}
    for name, _ in _bindings(modules):
        binds[name] = binds.get(name, 0) + 1
    imported = {a.asname or a.name.split(".")[0] for mod in modules for s in mod.body
                if isinstance(s, ast.Import) for a in s.names}
    def pred(s: ast.stmt) -> ast.FunctionDef | None:
        """The function `s` defines, when it only returns such an expression (`ident = lambda v: v` too)."""
        if (isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)
                and isinstance(s.value, ast.Lambda)):
            s = ast.FunctionDef(name=s.targets[0].id, args=s.value.args, body=[ast.Return(s.value.body)],
                                decorator_list=[], returns=None, type_comment=None)
        a = s.args if isinstance(s, ast.FunctionDef) else None
        if (a is None or s.decorator_list or binds.get(s.name) != 1 or a.vararg or a.kwarg or a.posonlyargs
                or a.kwonlyargs or len(s.body) != 1 or not isinstance(s.body[0], ast.Return)
                or s.body[0].value is None or not all(isinstance(d, ast.Constant) for d in a.defaults)):
            return None
        params = {p.arg for p in a.args}
        e = s.body[0].value
        if any(isinstance(n, (ast.Lambda, ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom,
                              ast.comprehension)) for n in ast.walk(e)):
            return None
        free = {n.id for n in ast.walk(e) if isinstance(n, ast.Name)} - params
        if all(n in imported and binds.get(n, 0) == 0 or n not in binds and hasattr(builtins, n) for n in free):
            return s
        return None

    # the module's functions, read anywhere; and a test function's own (`def ident(v): return v` in its body),
    # read by the statements after it there: (its definition, its name, the functions by name, what they apply to)
    found: list[tuple[ast.stmt, str, dict[str, ast.FunctionDef], list[ast.AST]]] = []
    top: dict[str, ast.FunctionDef] = {}
    for mod in modules:
        for s in mod.body:
            f = pred(s)
            if f is not None:
                top[f.name] = f
                found.append((s, f.name, top, list(modules)))
    nodes = [n for mod in modules for n in ast.walk(mod)]
    for fn in [n for n in nodes if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
        for k, s in enumerate(fn.body):
            f = pred(s)
            if f is not None:
                found.append((s, f.name, {f.name: f}, fn.body[k + 1:]))
    # and a class's method that only returns such an expression of its other parameters, called on the object
    # the class's methods are given (`self.want_for(x)`), where no class of the tests derives from it and
    # nothing stores an attribute of that name (an object's own would come first)
    classes = [c for c in nodes if isinstance(c, ast.ClassDef)]
    stored = {n.attr for n in nodes if isinstance(n, ast.Attribute) and not isinstance(n.ctx, ast.Load)}
    reflective = classes and any(isinstance(n, ast.Name) and n.id in ("setattr", "getattr", "vars", "delattr")
                                 or isinstance(n, ast.Attribute) and n.attr == "__dict__" for n in nodes)
    for cls in [] if reflective else [c for mod in modules for c in mod.body if isinstance(c, ast.ClassDef)]:
        if binds.get(cls.name) != 1 or any(_func_name(b) == cls.name for c in classes for b in c.bases):
            continue
        for m in cls.body:
            a = m.args if isinstance(m, ast.FunctionDef) else None
            if a is None or not a.args or len(a.defaults) >= len(a.args) or m.name in stored:
                continue
            f = pred(ast.FunctionDef(name=m.name, args=ast.arguments(
                posonlyargs=a.posonlyargs, args=a.args[1:], vararg=a.vararg, kwonlyargs=a.kwonlyargs,
                kw_defaults=a.kw_defaults, kwarg=a.kwarg, defaults=a.defaults), body=m.body,
                decorator_list=m.decorator_list, returns=None, type_comment=None))
            if f is None:
                continue
            for other in (o for o in cls.body if isinstance(o, ast.FunctionDef) and o.args.args):
                me = other.args.args[0].arg
                found.append((m, f.name, {f"{me}.{f.name}": f}, other.body))
    preds = top
    if not found:
        return

    def inline(call: ast.Call, preds: dict[str, ast.FunctionDef]) -> ast.expr | None:
        fn = preds[_func_name(call.func)]
        names = [p.arg for p in fn.args.args]
        if any(isinstance(x, ast.Starred) for x in call.args) or len(call.args) > len(names) or any(
                k.arg is None or k.arg not in names[len(call.args):] for k in call.keywords):
            return None
        given = dict(zip(names, call.args)) | {k.arg: k.value for k in call.keywords}
        defaults = dict(zip(names[len(names) - len(fn.args.defaults):], fn.args.defaults))
        if any(n not in given and n not in defaults for n in names):
            return None
        body = fn.body[0].value
        reads = {n: sum(isinstance(x, ast.Name) and x.id == n for x in ast.walk(body)) for n in names}
        calls = [n for n, v in given.items() if any(isinstance(x, (ast.Call, ast.NamedExpr, ast.Await))
                                                      for x in ast.walk(v))]
        if len(calls) > 1 or any(reads[n] != 1 for n in calls):
            return None
        values = {n: given.get(n, defaults.get(n)) for n in names}

        class Put(ast.NodeTransformer):
            def visit_Name(self, node: ast.Name):
                return copy.deepcopy(values[node.id]) if node.id in values else node
        return ast.copy_location(Put().visit(copy.deepcopy(body)), call)

    class Inline(ast.NodeTransformer):
        def __init__(self, preds: dict[str, ast.FunctionDef]):
            self.preds = preds

        def visit_Assert(self, node: ast.Assert):
            node.test = Calls(self.preds).visit(node.test)
            return node

        # and where an assignment or a loop's iterable takes its value (`x, want = ident(case)`, `for x, want in
        # cases():`): there the caller may then bind it (see _bind_known, _unroll); called in the sandbox, the
        # function returned the expected values where the program read them from its caller's frame
        def visit_Assign(self, node: ast.Assign):
            node = self.generic_visit(node)
            node.value = Calls(self.preds).visit(node.value)
            return node

        def visit_For(self, node: ast.For):
            node = self.generic_visit(node)
            node.iter = Calls(self.preds).visit(node.iter)
            return node

    class Calls(ast.NodeTransformer):
        def __init__(self, preds: dict[str, ast.FunctionDef]):
            self.preds = preds

        def visit_Call(self, node: ast.Call):
            node = self.generic_visit(node)
            if isinstance(node.func, (ast.Name, ast.Attribute)) and _func_name(node.func) in self.preds:
                return inline(node, self.preds) or node
            return node

    if top:
        for mod in modules:
            Inline(top).visit(mod)
    for _, _, preds, after in found:
        if preds is not top:
            for node in after:
                Inline(preds).visit(node)
    for mod in modules:
        ast.fix_missing_locations(mod)
    # one no longer read anywhere (every call written in) is left out of what the sandbox runs: `def cases():
    # return [(1, 2), ...]` held the expected values there, for the program to call (a `pass` in its place keeps
    # the statements counted as written)
    # (nor one the tests may reach otherwise: `solution.cases()`, `globals()['cases']`, `getattr(self, 'want')`)
    read: set[str] = set()
    named: set[str] = set()
    for n in (n for mod in modules for n in ast.walk(mod)):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
            read.add(n.id)
        elif isinstance(n, ast.Attribute):
            named.add(n.attr)
        elif isinstance(n, ast.Constant) and isinstance(n.value, str):
            named.add(n.value)
    looked_up = bool(read & {"globals", "locals", "vars", "eval", "exec", "getattr", "dir"})
    unread = {id(s) for s, name, preds, _ in found if not name.startswith(("test", "setUp", "tearDown", "__"))
              and not looked_up and name not in named and (name not in preds or name not in read)}
    for body in [mod.body for mod in modules] + [fn.body for mod in modules for fn in ast.walk(mod)
                                                   if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]:
        body[:] = [ast.copy_location(ast.Pass(), s) if id(s) in unread else s for s in body]


_TRAPS = (ast.Try, ast.With, ast.AsyncWith, *((ast.TryStar,) if hasattr(ast, "TryStar") else ()))


def _read_names(node: ast.AST) -> set[str]:
    # the names and attribute names `node` reads (`check`, `self.check`)
    return {n.id if isinstance(n, ast.Name) else n.attr for n in ast.walk(node)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) or isinstance(n, ast.Attribute)}


def _caught_functions(modules: list[ast.Module]) -> set[str]:
    """The names of the tests' functions whose exception a `try` or `with` of the tests may catch before it fails
    the test: read inside one, or in a lambda or generator expression (run where it is passed on), read other
    than as the function of a call (passed on: `run(check)`), decorated otherwise than with pytest's marks, or
    read in the body of such a function."""
    caught: set[str] = set()
    funcs: dict[str, list[ast.AST]] = {}
    nodes = [n for mod in modules for n in ast.walk(mod)]
    called = {id(n.func) for n in nodes if isinstance(n, ast.Call)}
    for n in nodes:
        if isinstance(n, (*_TRAPS, ast.Lambda, ast.GeneratorExp)):  # (a lambda or a generator expression runs
            caught |= _read_names(n)  # wherever it is passed on: `keep(lambda v: check(v), xs)`)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            funcs.setdefault(n.name, []).append(n)
            if any(_pytest_mark(d) is None for d in n.decorator_list):
                caught.add(n.name)
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in called:
            caught.add(n.id)
        elif isinstance(n, ast.Attribute) and id(n) not in called:
            caught.add(n.attr)
    done: set[str] = set()
    while todo := (caught & funcs.keys()) - done:
        for name in todo:
            done.add(name)
            for fn in funcs[name]:
                caught |= set().union(*(_read_names(s) for s in fn.body))
    return caught


def _generator(fn: ast.FunctionDef) -> bool:
    # whether `fn` is a generator function (a `yield` or `yield from` of its own scope)
    todo: list[ast.AST] = list(fn.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        todo.extend(c for c in ast.iter_child_nodes(node) if not isinstance(c, _SCOPES))
    return False


def _test_classes(modules: list[ast.Module]) -> set[int]:
    """The ids of the tests' classes whose methods only the test runner calls: unittest TestCase classes (by their
    bases, or a base that is such a class of theirs) and pytest's `Test*` classes (no bases, never called)."""
    spelled, _, ut_other = _testcase_names(modules)
    nodes = [n for mod in modules for n in ast.walk(mod)]
    called = {_func_name(n.func) for n in nodes if isinstance(n, ast.Call)}
    classes = [n for n in nodes if isinstance(n, ast.ClassDef)]
    names: set[str] = set()
    found: set[int] = set()
    while True:
        new = [c for c in classes if id(c) not in found and (
            any(_func_name(b) in spelled | ut_other | names for b in c.bases)
            or (c.name.startswith("Test") and c.name not in called and all(_func_name(b) == "object" for b in c.bases)))]
        if not new:
            return found
        for c in new:
            found.add(id(c))
            names.add(c.name)


class _FailIfs(ast.NodeTransformer):
    """`if <cond>: raise AssertionError(...)` (or `assert False`, `pytest.fail(...)`, `self.fail(...)`) is `assert not
    <cond>` (then what its `else:` or `elif` holds), as Python decides it: a check. Left as an `if`, the failing statement was reached
    only by a wrong program, so its test was no test (a program that forged the end of the run there passed it; a
    right one, with no other assert reported, failed it: an `assert False` never reported). So is an `if` whose
    body raises any other exception or exits (`raise ValueError`, `raise SystemExit(1)`, `sys.exit(1)`; after
    `print` calls, which decide nothing) where that exception can only fail the test: outside every `try` and
    `with` of the tests, in no function of theirs that one may run (see _caught_functions), no generator
    function, method of a class but a test class's own (not a dunder), or class body, with no walrus in <cond>
    (kept as written: asserts now bind a walrus for what follows too, but rewriting these would change the checks
    counted in existing verdicts, "passed 1/1" becoming "passed 2/2") and no exit of status 0 (a success). Elsewhere such an
    `if` runs as written, a check whose end a program can still forge (the exception is the only evidence)."""

    def __init__(self, modules: list[ast.Module] = ()):
        caught = _caught_functions(list(modules))
        self.open: set[int] = set()  # the ifs whose exception fails the test (kept alive by `self.nodes`)
        self.branch: set[int] = set()  # the ifs in a branch of another if (visited after it; kept alive there)
        self.nodes: list[ast.AST] = []

        tests = _test_classes(list(modules))

        def walk(node: ast.AST, open_: bool) -> None:
            for child in ast.iter_child_nodes(node):
                o = open_ and not isinstance(child, (*_TRAPS, ast.Lambda))
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    # not a generator or coroutine function (what it raises reaches whoever iterates or awaits
                    # it: the program, given `source()`), nor a method of a class other than a test class, nor a
                    # dunder one (the tests' `Numbers` iterator passed to the program: its `__next__`'s `if ...:
                    # raise StopIteration`, a `withdraw` whose ValueError the program catches)
                    o = (o and child.name not in caught and isinstance(child, ast.FunctionDef)
                         and not _generator(child) and (not isinstance(node, ast.ClassDef) or (
                             id(node) in tests and not (child.name.startswith("__") and child.name.endswith("__")))))
                elif isinstance(node, ast.ClassDef):  # a class body's own statements: an assert's lambdas there
                    o = False  # do not see the class's names (`N = f(1)` then `if N != 3: raise ValueError`)
                if o and isinstance(child, ast.If):
                    self.open.add(id(child))
                    self.nodes.append(child)
                walk(child, o)

        for mod in modules:
            walk(mod, True)

    @staticmethod
    def _fails(stmt: ast.stmt, any_exit: bool = False) -> bool:
        def succeeds(e: ast.expr) -> bool:
            # an exit with status 0 (`sys.exit()`, `sys.exit(0)`, `raise SystemExit`, `exit(False)`): a success
            # as the script ends, no failure (`if ok: print('PASS'); sys.exit(0)` as an assert failed right
            # programs)
            args = e.args if isinstance(e, ast.Call) else []
            return (not (isinstance(e, ast.Call) and e.keywords) and len(args) <= 1 and all(
                isinstance(a, ast.Constant) and (a.value is None or type(a.value) in (int, bool) and a.value == 0)
                for a in args))

        if isinstance(stmt, ast.Raise) and stmt.cause is None and stmt.exc is not None:
            e = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
            if isinstance(e, ast.Name) and e.id == "AssertionError":
                return True
            return any_exit and not (isinstance(e, ast.Name) and e.id == "SystemExit" and succeeds(stmt.exc))
        if isinstance(stmt, ast.Assert):
            return isinstance(stmt.test, ast.Constant) and stmt.test.value is False
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            f = stmt.value.func
            if any_exit and (isinstance(f, ast.Name) and f.id in ("exit", "quit") or isinstance(f, ast.Attribute)
                             and isinstance(f.value, ast.Name) and (f.value.id, f.attr) in (("sys", "exit"),
                                                                                             ("os", "_exit"))):
                return not succeeds(stmt.value)
            return (isinstance(f, ast.Attribute) and f.attr == "fail" and isinstance(f.value, ast.Name)
                    and f.value.id in ("pytest", "self"))
        return False

    @staticmethod
    def _prints(stmts: list[ast.stmt]) -> bool:
        return all(isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and isinstance(s.value.func, ast.Name)
                   and s.value.func.id == "print" for s in stmts)

    def visit_If(self, node: ast.If):
        is_open = id(node) in self.open
        branch = id(node) in self.branch
        # the ifs of its branches run only on one side of it (an `elif` above all): an assert made of one there
        # is a test a right program may never reach, which fails it
        self.branch.update(id(n) for s in (*node.body, *node.orelse) for n in ast.walk(s) if isinstance(n, ast.If))
        node = self.generic_visit(node)
        if ((len(node.body) == 1 and self._fails(node.body[0]))  # (what an `else:`/`elif` holds runs after it)
                or (is_open and self._fails(node.body[-1], True) and self._prints(node.body[:-1])
                    # (an assert's operands are evaluated in lambdas: `if (r := f(x)) != 3: raise ValueError`
                    # as one bound no `r` for the statements after it, which then failed)
                    and not any(isinstance(n, ast.NamedExpr) for n in ast.walk(node.test)))):
            check = ast.copy_location(ast.Assert(test=ast.UnaryOp(op=ast.Not(), operand=node.test), msg=None), node)
            return [check, *node.orelse]
        # `if r == want: print('ok')` / `else: raise AssertionError` (the check on the else side; its side that
        # passes only prints): `assert <cond>`, as Python decides it (left as written it held no assert, and the
        # tests were refused)
        # (not an if in a branch of another, such as an `elif`: `if r == 4: print('ok')` / `elif r == 5: print(..)`
        # / `else: raise AssertionError` as an assert under the else failed every program returning 4)
        if node.orelse and not branch and (
                all(isinstance(s, ast.Pass) for s in node.body) or self._prints(node.body)) and (
                (len(node.orelse) == 1 and self._fails(node.orelse[0]))
                or (is_open and node.orelse and self._fails(node.orelse[-1], True)
                    and self._prints(node.orelse[:-1])
                    and not any(isinstance(n, ast.NamedExpr) for n in ast.walk(node.test)))):
            return ast.copy_location(ast.Assert(test=node.test, msg=None), node)
        return node


_CANONICAL_MODULES = ("math", "pytest", "numpy", "numpy.testing", "json", "collections", "copy", "statistics",
                      "string", "fractions", "decimal", "re", "datetime")  # whose functions the caller applies by their dotted names (see _FUNCS)
# `from copy import copy` (`from datetime import datetime`, `import copy as cp`) read as `copy.copy` would need
# `import copy`, which rebinds the program's own `copy` (its function, or the name of anything else) in the
# namespace the tests share with it: such a module is imported under a name of its own, which _func_name reads as
# the module's (not pytest's or NumPy's, whose names the rewrites look for; a program binds them to nothing else)
_MODULE_ALIASES = {f"__ponder_{m.replace('.', '_')}__": m for m in _CANONICAL_MODULES}
_ALIAS_OF = {m: a for a, m in _MODULE_ALIASES.items()}


class _CanonicalImports(ast.NodeTransformer):
    """`import math as m`, `from math import isclose [as ic]` (or `*`), `from pytest import approx, raises`
    written as `import math` / `import pytest` and the names read as `math.isclose`, `pytest.approx`: the caller
    applies (or decides) what it knows by those dotted names only. Under another name the call ran in the
    sandbox, where the program had replaced the module's function before the import (`math.isclose = lambda *a:
    True`, a fake `pytest` in sys.modules) and passed; and `approx(0.5)` there is no plain value, so it failed
    every program."""

    def __init__(self, names: dict[str, ast.expr], imports: set[int], aliased: set[str]):
        self.names, self.imports, self.aliased = names, imports, aliased

    def visit_Name(self, node: ast.Name):
        if isinstance(node.ctx, ast.Load) and node.id in self.names:
            return ast.copy_location(copy.deepcopy(self.names[node.id]), node)
        return node

    def visit_Import(self, node: ast.Import):
        if id(node) not in self.imports:
            return node
        return ast.copy_location(ast.Import([self._alias(a.name) if a.asname in self.names else a
                                             for a in node.names]), node)

    def _alias(self, module: str) -> ast.alias:
        return ast.alias(module, _ALIAS_OF[module] if module in self.aliased else None)

    def visit_ImportFrom(self, node: ast.ImportFrom):
        if id(node) not in self.imports:
            return node
        rest = [a for a in node.names if (a.asname or a.name) not in self.names]
        out = [ast.copy_location(ast.Import([self._alias(node.module)]), node)]
        return out + [ast.copy_location(ast.ImportFrom(node.module, rest, 0), node)] if rest else out


class _NumpyAsserts(ast.NodeTransformer):
    """`np.testing.assert_allclose(f(x), [..])` as the assert `assert numpy.testing.assert_allclose(...)`, which
    the caller decides (see _FUNCS): run in the sandbox, the program could have replaced it by a no-op."""

    def visit_Expr(self, node: ast.Expr):
        if isinstance(node.value, ast.Call) and _func_name(node.value.func) in _NP_TESTING:
            return ast.copy_location(ast.Assert(node.value), node)
        return node

    def visit_Try(self, node: ast.Try):
        return node  # its AssertionError may be expected (`except AssertionError:`): it runs as written

    def visit_With(self, node: ast.With):
        if any(isinstance(n, ast.Attribute) and n.attr in ("raises", "assertRaises", "assertRaisesRegex")
               or isinstance(n, ast.Name) and n.id == "raises" for item in node.items for n in ast.walk(item)):
            return node  # `with pytest.raises(AssertionError):` likewise
        return self.generic_visit(node)


def _canonical_imports(modules: list[ast.Module]) -> list[ast.Module]:
    """The tests with each name they bind only by importing one of `_CANONICAL_MODULES` or a name of it read
    as the module's dotted name (see _CanonicalImports); a name bound otherwise too is left as it is."""
    targets: dict[str, set[str]] = {}
    imports: dict[int, ast.stmt] = {}
    for mod in modules:
        for node in ast.walk(mod):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name in _CANONICAL_MODULES and a.asname and a.asname != a.name:
                        targets.setdefault(a.asname, set()).add(a.name)
                        imports[id(node)] = node
            elif isinstance(node, ast.ImportFrom) and node.module == "math" and node.names[0].name == "*" \
                    and not node.level:
                for name in (n for n in vars(math) if not n.startswith("_")):  # (`pow` too: it is math's now)
                    targets.setdefault(name, set()).add(f"math.{name}")
                imports[id(node)] = node
            elif (isinstance(node, ast.ImportFrom) and node.module in _CANONICAL_MODULES and not node.level
                  and all(a.name != "*" for a in node.names)):
                for a in node.names:
                    targets.setdefault(a.asname or a.name, set()).add(f"{node.module}.{a.name}")
                imports[id(node)] = node
    if not targets:
        return modules
    other = {name for name, node in _bindings(modules) if id(node) not in imports}
    chosen = {name: target for name, (target, *more) in targets.items()
              if not more and name not in other and target.partition(".")[0] not in other}
    if not chosen:
        return modules
    aliased = {t if t in _CANONICAL_MODULES else t.rpartition(".")[0] for t in chosen.values()
               if not t.startswith(("pytest", "numpy"))}
    names = {}
    for name, target in chosen.items():
        module = target if target in _CANONICAL_MODULES else target.rpartition(".")[0]
        names[name] = _dotted(_ALIAS_OF[module] + target[len(module):] if module in aliased else target)
    rewriter = _CanonicalImports(names, set(imports), aliased)
    return [ast.fix_missing_locations(rewriter.visit(mod)) for mod in modules]


def _imported_names(modules: list[ast.Module]) -> tuple[frozenset[str], frozenset[str]]:
    """Names the tests bind by importing from modules other than the program's (`solution`), and names they
    bind to the program's module, to what they import from it, or to classes they define."""
    other: set[str] = set()
    program: set[str] = set()
    for mod in modules:
        for node in ast.walk(mod):
            if isinstance(node, ast.Import):
                for a in node.names:
                    (program if a.name == "solution" else other).add(a.asname or a.name.split(".")[0])
            elif isinstance(node, ast.ImportFrom):
                (program if node.module == "solution" and not node.level else other).update(
                    a.asname or a.name for a in node.names)
            elif isinstance(node, ast.ClassDef):
                program.add(node.name)
    return frozenset(other), frozenset(program)


def _target_pattern(t: ast.expr):
    """A `for` target as ("name", id) / ("seq", [patterns]), or None for anything else (`*rest`, `x.attr`)."""
    if isinstance(t, ast.Name):
        return ("name", t.id)
    if isinstance(t, (ast.Tuple, ast.List)):
        parts = [_target_pattern(x) for x in t.elts]
        return None if any(p is None for p in parts) else ("seq", parts)
    return None


def _bind(pattern, value, env: dict) -> None:
    """Unpack `value` into `env` as `for <pattern> in ...` would."""
    if pattern[0] == "name":
        env[pattern[1]] = value
        return
    parts = pattern[1]
    try:
        seq = list(itertools.islice(iter(value), len(parts) + 1))
    except TypeError:
        raise _TestFailed("cannot unpack") from None
    if len(seq) != len(parts):
        raise _TestFailed("cannot unpack")
    for p, v in zip(parts, seq):
        _bind(p, v, env)


def _ordered(tree) -> bool:
    if tree[0] == "const":
        return type(tree[1]) in _ORDERED_CONSTS
    if tree[0] == "seq":
        return tree[1] != "set"
    if tree[0] in ("method", "fstr"):  # a str, bytes, list or tuple (or a number, which fails in iter())
        return True
    if tree[0] == "caller_comp":  # a list or generator the caller builds, in the order of its iterables
        return tree[1] in ("list", "gen") and all(_ordered(iter_tree) for _, iter_tree, _ in tree[2])
    if tree[0] == "call" and tree[1] in _ORDERED_CALLS:
        return tree[1] in ("range", "sorted") or all(_ordered(a) for a in tree[2])
    return False


def _value_ast(v) -> ast.expr:
    """Source for a plain value the caller computed (sent into the sandbox as test data)."""
    t = type(v)
    if t is _Array:  # `expected = np.array([1, 2])`: built by `numpy.array` where it is read (see _FUNCS)
        return ast.Call(func=_dotted("numpy.array"), args=[_value_ast(list(v))], keywords=[])
    if t is list or t is tuple:
        return (ast.List if t is list else ast.Tuple)(elts=[_value_ast(x) for x in v], ctx=ast.Load())
    if t is dict:
        return ast.Dict(keys=[_value_ast(k) for k in v], values=[_value_ast(x) for x in v.values()])
    if t is set or t is frozenset:  # the real set/frozenset, whatever the program or the test calls so
        items = ast.List(elts=[_value_ast(x) for x in v], ctx=ast.Load())
        real = ast.Subscript(value=ast.Name("__ponder_builtins__", ast.Load()), slice=ast.Constant(t.__name__),
                             ctx=ast.Load())
        return ast.Call(func=real, args=[items], keywords=[])
    if v is None or t in (bool, int, float, str, bytes):
        return ast.Constant(v)
    raise ValueError(f"cannot send a {t.__name__}")  # complex: its source loses the sign of a zero real part


# backtracking steps one match= check may cost the caller at worst; charged to the run's _MAX_WORK too
_REGEX_STEPS = 1 << 24
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")


def _match_check(pattern: str) -> tuple:
    """How the caller decides `pytest.raises(..., match=pattern)`, pytest's re.search(pattern, str(exception)):
    ("text", pattern) for plain text (a substring test, linear however long the message the program chose),
    ("regex", pattern, limit, repeats) for a regex whose cost the caller can bound: without nested repetition
    or back references, a backtracking search costs at most n ** (repeats + 1) steps on a message of n
    characters, so a message longer than `limit` fails rather than being searched (a correct program's message
    is short), and the search is charged that cost (_Evaluator.matches);
    ("bad", why) for a pattern that does not compile (the test fails, as pytest's would), ("unsafe", pattern)
    for one that could backtrack exponentially (`(a+)+$`, `(a|aa)*b`, `(a)\\1`)."""
    if not any(c in pattern for c in ".^$*+?{}[]\\|()"):
        return ("text", pattern)
    try:
        re.compile(pattern)
        parsed = _sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError, ValueError) as e:
        return ("bad", str(e))
    def repeats(items, inside: bool) -> int | None:  # repetitions that can take more than one length, or None
        total = 0
        for op, av in items:
            name = str(op)
            if name in _REPEATS:
                lo, hi, sub = av
                if inside and hi != lo:
                    return None  # a repetition inside one: exponential
                inner = repeats(sub, inside or hi > 1)
                if inner is None:
                    return None
                total += inner + (hi != lo)
            elif name == "BRANCH":
                if inside:
                    return None  # alternatives inside a repetition: `(a|aa)*`
                for branch in av[1]:
                    inner = repeats(branch, inside)
                    if inner is None:
                        return None
                    total += inner
            elif name in ("SUBPATTERN", "ASSERT", "ASSERT_NOT", "ATOMIC_GROUP"):
                inner = repeats(av[-1] if name != "ATOMIC_GROUP" else av, inside)
                if inner is None:
                    return None
                total += inner
            elif name in ("GROUPREF", "GROUPREF_EXISTS"):
                return None
        return total
    q = repeats(parsed, False)
    if q is None:
        return ("unsafe", pattern)
    return ("regex", pattern, int(_REGEX_STEPS ** (1 / (q + 1))), q)


def _builtin_exception_class(name) -> type | None:
    """The builtin exception class named `name` (a str), or None."""
    cls = getattr(builtins, name, None) if type(name) is str else None
    return cls if isinstance(cls, type) and issubclass(cls, BaseException) else None


class _OtherClass:
    """`excinfo.type` when it is no builtin exception class: equal to, and identical with, no class here."""


class _RealBuiltins(ast.NodeTransformer):
    """In code the sandbox runs for an assert, a builtin's name the test does not bind means the builtin, not a
    program global of that name: `isinstance(make(), Node)` stays honest next to `def isinstance(*a)`."""

    NAMES = frozenset(n for n in dir(builtins) if not n.startswith("_"))

    def __init__(self, bound: set[str]):
        self.bound = bound

    def visit_Name(self, node: ast.Name):
        if isinstance(node.ctx, ast.Load) and node.id in self.NAMES and node.id not in self.bound:
            real = ast.Subscript(value=ast.Name("__ponder_builtins__", ast.Load()), slice=ast.Constant(node.id),
                                 ctx=ast.Load())
            return ast.copy_location(real, node)
        return node


class _WalrusCell(ast.NodeTransformer):
    """An assert's sandbox code with its walruses bound in a dict of its own (`cell`) rather than in the lambdas its
    operands run in (`assert (r := f(1)) == 3` bound `r` in a lambda, none for the statements after it: a right
    program failed `assert r == 3`): `(r := x)` stores x there, a read of r in the assert reads it there once set;
    the statement after the check binds each name so stored where the assert stands, as the walrus would have."""

    def __init__(self, cell: str, names: set[str], ns: str | None = None):
        # in a class body, `ns` names its namespace: a name read before the walrus binds it is the class's if bound
        # there (`n = 1` then `assert (n := f(n)) == 2`), as Python reads it in a class body, else the global
        self.cell, self.names, self.ns = cell, names, ns

    def _cell(self) -> ast.expr:
        return ast.Name(self.cell, ast.Load())

    def visit_NamedExpr(self, node: ast.NamedExpr):
        node = self.generic_visit(node)
        if not isinstance(node.target, ast.Name) or node.target.id not in self.names:
            return node
        key = ast.Constant(node.target.id)
        store = ast.Call(func=ast.Attribute(self._cell(), "__setitem__", ast.Load()), args=[key, node.value],
                         keywords=[])
        read = ast.Subscript(value=self._cell(), slice=ast.Constant(node.target.id), ctx=ast.Load())
        return ast.copy_location(ast.BoolOp(op=ast.Or(), values=[store, read]), node)

    def visit_Name(self, node: ast.Name):
        if isinstance(node.ctx, ast.Load) and node.id in self.names:
            key = ast.Constant(node.id)
            read = ast.Subscript(value=self._cell(), slice=key, ctx=ast.Load())
            has = ast.Compare(left=key, ops=[ast.In()], comparators=[self._cell()])
            outer = node
            if self.ns is not None:
                ns = ast.Name(self.ns, ast.Load())
                outer = ast.IfExp(test=ast.Compare(left=key, ops=[ast.In()], comparators=[ns]),
                                  body=ast.Subscript(value=ns, slice=key, ctx=ast.Load()), orelse=node)
            return ast.copy_location(ast.IfExp(test=has, body=read, orelse=outer), node)
        return node


def _walrus_names(test: ast.expr) -> list[str]:
    """The names an assert's walruses bind (in order), but a comprehension's or lambda's own variable."""
    own = {n.id for c in ast.walk(test) if isinstance(c, ast.comprehension) for n in ast.walk(c.target)
           if isinstance(n, ast.Name)}
    own |= {a.arg for lam in ast.walk(test) if isinstance(lam, ast.Lambda) for a in ast.walk(lam.args)
            if isinstance(a, ast.arg)}
    names = [n.target.id for n in ast.walk(test) if isinstance(n, ast.NamedExpr) and isinstance(n.target, ast.Name)]
    return [n for n in dict.fromkeys(names) if n not in own]


def _walrus_always(test: ast.expr) -> list[ast.NamedExpr]:
    """The walruses of an assert's test binding a plain name that the sandbox runs whenever it runs the test,
    outermost first: not in an `if`-expression's branches, a lambda or a comprehension (an `and`/`or`'s later operand
    and a chained comparison's later one are records of the sandbox's, each run, the caller deciding the logic)."""
    found: list[ast.NamedExpr] = []
    todo = [test]
    while todo:
        e = todo.pop()
        if isinstance(e, ast.NamedExpr):
            if isinstance(e.target, ast.Name):
                found.append(e)
            todo.append(e.value)
        elif isinstance(e, ast.IfExp):
            todo.append(e.test)
        elif not isinstance(e, (ast.Lambda, ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp)):
            todo.extend(ast.iter_child_nodes(e))
    return found


class _CallerWalrus(ast.NodeTransformer):
    """An assert's test with each walrus in `walruses` (whose value the caller computes: `(want := 4)`) replaced by
    its value, and each read of its name after it (in evaluation order) by a copy of that value: in the sandbox,
    the walrus put the expected value where the program could read it while its operands ran (`assert (w := 4) ==
    f(2)` passed an f returning what the assert's walrus cell held). The name is bound after the report."""

    def __init__(self, walruses: list[ast.NamedExpr]):
        self.ids = {id(w) for w in walruses}
        self.values: dict[str, ast.expr] = {}  # name -> value, once its walrus is passed

    def visit_NamedExpr(self, node: ast.NamedExpr):
        if id(node) not in self.ids:
            return self.generic_visit(node)
        value = self.visit(node.value)
        self.values[node.target.id] = value
        return value

    def visit_Name(self, node: ast.Name):
        if isinstance(node.ctx, ast.Load) and node.id in self.values:
            return ast.copy_location(copy.deepcopy(self.values[node.id]), node)
        return node


def _class_names(cls: ast.ClassDef) -> set[str]:
    """The names a class body binds itself (not those of its functions, classes, lambdas or comprehensions)."""
    names: set[str] = set()
    todo = list(cls.body)
    while todo:
        n = todo.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(n.name)
            todo.extend([*n.decorator_list, *getattr(n, "bases", ())])
            continue
        if isinstance(n, (ast.Lambda, ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp)):
            continue
        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
            names.add(n.id)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).partition(".")[0] for a in n.names)
        todo.extend(ast.iter_child_nodes(n))
    return names


def _class_scope(node: ast.AST, names: set[str]) -> None:
    """The lambdas of an assert's report in a class body (outermost ones) given each of the class's `names` they
    read as a default, evaluated where the class body runs: a lambda there does not see the class's names (`N =
    f(1)` then `assert N == 3` in the body failed a right program with NameError), its defaults do."""
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, ast.Lambda):
            _class_scope(child, names)
            continue
        bound = {a.arg for n in ast.walk(child) if isinstance(n, ast.arguments) for a in
                 (*n.posonlyargs, *n.args, *n.kwonlyargs, n.vararg, n.kwarg) if a is not None}
        bound |= {n.id for n in ast.walk(child.body) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
        free = sorted({n.id for n in ast.walk(child.body) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
                      & names - bound)
        child.args.args.extend(ast.arg(n) for n in free)
        child.args.defaults.extend(ast.Name(n, ast.Load()) for n in free)


def _lambda(body: ast.expr, *params: str) -> ast.Lambda:
    return ast.Lambda(args=ast.arguments(posonlyargs=[], args=[ast.arg(p) for p in params], kwonlyargs=[],
                                         kw_defaults=[], defaults=[]), body=body)


def _call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(name, ast.Load()), args=list(args), keywords=[])


# in the body of an exception test, an operand's exception propagates (see _AssertRewriter.visit_Assert)
_RAISING = {"__ponder_val__": "__ponder_val_raising__", "__ponder_items__": "__ponder_items_raising__",
            "__ponder_apply__": "__ponder_apply_raising__"}
# Builtins the caller applies that the sandbox applies instead to an object of the program's (`len(stack)`,
# `str(node)`, `assert stack`, `stack[0]`), as Python would call its methods; each result must be of the type the
# builtin gives, which a plain value could give as well (a list of that length, the str itself, True, [item]), so
# a program gains nothing by an object that lies: it could have returned that plain value
_APPLIED_THERE = {"len": int, "str": str, "bool": bool, "int": int, "float": float, "sub": object, "in": bool,
                  "struct": list}


class _Struct:
    """An object of a class of the program's, as the sandbox's `struct` reads it: equal to another of the same
    class with equal fields (an always-true __eq__ of the program's plays no part), or, of a class with no
    __eq__ of its own, only to itself; never to a plain value."""

    def __init__(self, data, depth: int = 0):
        self.key = (data[0], int(data[1], 16))
        self.fields = {_decode(k): _unstruct(x, depth + 1) for k, x in data[2]} if data[0] == "O" else {}
        # of its fields too: a set of thousands of one class's objects must not all share one hash
        self.hash = hash((self.key, frozenset((k, _deep_hash(v)) for k, v in self.fields.items())))

    def __eq__(self, other):
        # field by field, a field that is an object of its own compared in this loop, not by recursion: a linked
        # list of 1,000 nodes
        todo = [(self, other)]
        while todo:
            a, b = todo.pop()
            if type(b) is not _Struct or a.key != b.key or a.fields.keys() != b.fields.keys():
                return False
            for k, x in a.fields.items():
                y = b.fields[k]
                if type(x) is _Struct and type(y) is _Struct:
                    todo.append((x, y))
                elif not (x is y or x == y):
                    return False
        return True

    def __hash__(self):
        return self.hash


def _deep_hash(v) -> int:
    """A hash of a field's value, equal for equal values, a list's or dict's too."""
    try:
        return hash(v)
    except TypeError:
        pass
    if isinstance(v, (list, tuple)):
        return hash(tuple(_deep_hash(x) for x in v))
    if isinstance(v, (set, dict)):
        return hash(frozenset((_deep_hash(k), _deep_hash(x)) for k, x in v.items()) if isinstance(v, dict)
                    else frozenset(v))
    return 0


class _Prefix(list):
    """The items the sandbox took from an iterator of the program's, the right operand of `in`, before it raised
    or passed the bound (`why`): `in` holds if its match is among them, as Python's stops there; else Python
    would have raised or gone on (maybe forever, `5 in itertools.count()`), and the test fails."""

    def __init__(self, items, why: str):
        super().__init__(items)
        self.why = why

    def __contains__(self, x):
        if list.__contains__(self, x):
            return True
        raise _TestFailed(f"'in' found no match before the iterator stopped: {self.why}"[:300])


def _unstruct_top(data):
    """_unstruct of a struct record, or of struct_in's ["P", batches, how it stopped ("": it ended)]."""
    if not (type(data) is list and len(data) == 3 and data[0] == "P"):
        return _unstruct(data)
    if type(data[1]) is not list or type(data[2]) is not str:
        raise ValueError("malformed value")
    items = []
    for batch in data[1]:
        part = _unstruct(batch, 1)
        if type(part) is not list:
            raise ValueError("malformed value")
        items += part
    return _Prefix(items, data[2]) if data[2] else items


def _unstruct(data, depth: int = 0):
    """The value the sandbox's `struct` describes: plain, a container of such, or a _Struct."""
    if type(data) is _Piece:
        if data.kind != "s" or not data.ok:
            raise ValueError("malformed value")
        return data.value
    if depth > 50 or type(data) is not list or not data:
        raise ValueError("malformed value")
    if data[0] == "p":
        return _decode(data[1])
    if data[0] == "c":
        cls = {"l": list, "t": tuple, "S": set, "F": frozenset}[data[1]]
        items = [_unstruct(x, depth + 1) for x in data[2]]
        if cls in (set, frozenset):
            _hash_guard("set", items)
        return cls(items)
    if data[0] == "m":
        pairs = [(_unstruct(k, depth + 1), _unstruct(x, depth + 1)) for k, x in data[1]]
        _hash_guard("dict", [k for k, _ in pairs])
        return dict(pairs)
    if data[0] in ("I", "O"):
        return _Struct(data, depth)
    raise ValueError("malformed value")


class _AssertRewriter(ast.NodeTransformer):
    """Replaces every `assert` with a report call; the caller keeps the literal parts and the logic.

    `assert f(2) == 4` becomes `__ponder_check__(i, __ponder_val__(lambda: f(2)))` and the tree
    ("cmp", [("leaf", 0), ("const", 4)], [ast.Eq]) stays here. A comprehension the caller evaluates
    (`all(f(i) == 2 * i for i in range(5))`) becomes one `__ponder_for__` record per `for`, holding, per item,
    the records of the operands of its conditions and element; the caller pairs them with its own items. One
    with no value of the program's in it (`[i * i for i in range(5)]`) is a ("caller_comp", ...) tree: no record.
    """

    def __init__(self, first_index: int, bound: set[str], imports: tuple[frozenset[str], frozenset[str]] = (
            frozenset(), frozenset())):
        self.index = first_index
        self.trees: list = []
        self.bound = bound  # names the tests bind themselves
        # names the tests import from modules other than the program's; names they bind to the program's
        # module, to what they import from it, or to classes of their own
        self.imported, self.program_names = imports
        self.loop_vars: frozenset[str] = frozenset()  # comprehension variables whose values the caller knows
        self.comp_vars: frozenset[str] = frozenset()  # all variables of the comprehensions around an operand
        self.top: list[ast.expr] = []  # the records of the assert being rewritten
        self.spans: dict[int, range] = {}  # id of each function definition -> the trees of its asserts
        self.unsupported: str | None = None  # a test the caller cannot decide (a match= regex it cannot bound)
        self.excinfo: set[str] = set()  # names `with pytest.raises(...) as <name>` binds in the current function
        self.raise_body = False  # rewriting the body of an exception test (see _raise_check)
        self.optional: set[int] = set()  # asserts in such a body: unreached when it raised first
        self.handler_asserts: set[int] = set()  # optional too, in one of several handlers run after the check
        self.entered: dict[int, list] = {}  # such a check -> its handlers' classes and asserts (_handlers)
        # the asserts of the two branches of an `if` the caller cannot decide, as ranges of trees: one runs
        self.alternatives: list[tuple[range, range]] = []
        # inside a probe (_has_leaves, _caller_comp), which only asks whether an expression reads the program's
        # values: what it finds there is found again where the expression is rewritten for the sandbox
        self.probing = 0
        self.consumed: set[ast.GeneratorExp] = set()  # generator expressions a builtin iterates where called
        self.objects: set[str] = set()  # names last bound to a class's object (`stack = Stack()`)
        self.walrus: _WalrusCell | None = None  # the walruses of the assert being rewritten
        self.class_body: set[str] | None = None  # in a class body's own statements: its names (see _class_scope)

    def visit_Assign(self, node: ast.Assign):
        for t in node.targets:
            for n in ast.walk(t):
                if isinstance(n, ast.Name):
                    self.objects.discard(n.id)
        if (len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name) and node.value.func.id[:1].isupper()):
            self.objects.add(node.targets[0].id)
        return self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef):
        outer, self.class_body = self.class_body, _class_names(node)
        node = self.generic_visit(node)
        self.class_body = outer
        return node

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef):
        outer, self.class_body = self.class_body, None
        node = self.generic_visit(node)
        self.class_body = outer
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef):
        start, outer, in_class = self.index, self.excinfo, self.class_body
        self.excinfo, self.class_body = set(), None
        node = self.generic_visit(node)
        self.excinfo, self.class_body = outer, in_class
        self.spans[id(node)] = range(start, self.index)
        return node

    def visit_Expr(self, node: ast.Expr):
        """`excinfo.match(r'regex')` after `with pytest.raises(...) as excinfo` is an assert the caller decides;
        `pytest.raises(E, f, *args)` is `with pytest.raises(E): f(*args)` (run as written, `pytest.raises`
        would be the sandbox's, the program's to replace)."""
        e = node.value
        if (isinstance(e, ast.Call) and _func_name(e.func) == "pytest.raises" and "pytest" not in self.bound
                and len(e.args) >= 2 and not any(isinstance(a, ast.Starred) for a in e.args[:2])):
            raises = ast.Call(func=e.func, args=[e.args[0]], keywords=[])
            call = ast.Call(func=e.args[1], args=e.args[2:], keywords=e.keywords)
            body = [ast.copy_location(ast.Expr(call), node)]
            return self.visit_With(ast.copy_location(ast.With(items=[ast.withitem(raises)], body=body), node))
        check = self._excinfo_match(node.value)
        if check is None:
            return self.generic_visit(node)
        return self.visit_Assert(ast.copy_location(ast.Assert(test=node.value, msg=None), node))

    def _excinfo_match(self, e: ast.expr) -> tuple | None:
        """_match_check of the pattern of `excinfo.match(<str>)`, or None for anything else."""
        if (isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute) and e.func.attr == "match"
                and isinstance(e.func.value, ast.Name) and e.func.value.id in self.excinfo and len(e.args) == 1
                and not e.keywords and isinstance(e.args[0], ast.Constant) and type(e.args[0].value) is str):
            return _match_check(e.args[0].value)
        return None

    def _of_excinfo(self, e: ast.expr) -> bool:
        """Whether `e` reads an excinfo name (`excinfo.value.args[0]`, `str(excinfo.value)`)."""
        while isinstance(e, (ast.Attribute, ast.Subscript, ast.Call)):
            e = e.func if isinstance(e, ast.Call) else e.value
        return isinstance(e, ast.Name) and e.id in self.excinfo

    def _excinfo_type(self, e: ast.expr) -> bool:
        return (isinstance(e, ast.Attribute) and e.attr == "type" and isinstance(e.value, ast.Name)
                and e.value.id in self.excinfo)

    def _builtin_exception(self, e: ast.expr) -> bool:
        return (isinstance(e, ast.Name) and _builtin_exception_class(e.id) is not None
                and e.id not in self.bound and e.id not in self.loop_vars)

    def visit_Assert(self, node: ast.Assert):
        records: list[ast.expr] = []
        self.top = records
        # a walrus of a value the caller computes (`(want := 4)`) keeps it here (see _CallerWalrus)
        test = copy.deepcopy(node.test)
        known = [w for w in _walrus_always(test) if w.target.id in _walrus_names(test)
                 and not any(isinstance(n, ast.NamedExpr) for n in ast.walk(w.value))
                 and _caller_tree(w.value, self.bound, self.loop_vars) is not None]
        kept: dict[str, ast.expr] = {}
        if known:
            swap = _CallerWalrus(known)
            node = ast.copy_location(ast.Assert(test=swap.visit(test), msg=node.msg), node)
            kept = {n: self._sandbox_code(v) for n, v in swap.values.items()}
        names = [n for n in _walrus_names(node.test) if n not in kept]
        cell = f"__ponder_walrus{self.index}__"
        ns = f"__ponder_class{self.index}__" if self.class_body is not None and names else None
        self.walrus = _WalrusCell(cell, set(names), ns) if names else None
        try:
            tree = self._expr(node.test, records)
        finally:
            self.walrus = None
        if tree[0] == "leaf" and isinstance(node.test, ast.Call) and _func_name(node.test.func) in _NP_TESTING:
            # np.testing's assertion run whole in the sandbox (`np.testing.assert_allclose(out, exp, atol=atol)`,
            # a keyword the sandbox holds: an EvalPlus helper of another form) returns None when it held; its
            # truth, False, failed every program
            tree = ("cmp", [("struct", self._apply_there(tree, records, "struct")), ("const", None)], [ast.Is])
        elif tree[0] == "leaf":  # `assert stack`: its truth
            tree = ("call", "bool", [self._apply_there(tree, records, "bool")], {})
        if self.raise_body:
            # `with pytest.raises(ZeroDivisionError): assert div(1, 0) == 0`: an operand's exception is the
            # body's, so it propagates (caught as the assert's failure, the body would end normally), and an
            # assert it leaves unreached has passed as Python runs it: the raise check decides the test
            for r in records:
                if isinstance(r, ast.Call) and isinstance(r.func, ast.Name) and r.func.id in _RAISING:
                    r.func.id = _RAISING[r.func.id]
            self.optional.add(self.index)
        self.trees.append(tree)
        call = _call("__ponder_check__", ast.Constant(self.index), *records)
        if self.class_body is not None:  # (the assert's walrus names read from its cell, which is the class's)
            _class_scope(call, self.class_body - set(names) - set(kept) | {cell, ns} if names else self.class_body - set(kept))
        self.index += 1
        check = ast.copy_location(ast.Expr(call), node)
        # a walrus of the caller's value binds its name after the report, when the operands have run
        after = [ast.copy_location(ast.Assign(targets=[ast.Name(n, ast.Store())], value=v), node)
                 for n, v in kept.items()]
        if not names:
            return [check, *after] if after else check
        # the names its walruses bound, bound here after the report (an operand that raised left them unbound)
        made = ast.Assign(targets=[ast.Name(cell, ast.Store())], value=ast.Dict(keys=[], values=[]))
        if ns is not None:  # the class's namespace, read where its body runs (see _WalrusCell)
            made = [made, ast.Assign(targets=[ast.Name(ns, ast.Store())], value=ast.Call(func=ast.Subscript(
                value=ast.Name("__ponder_builtins__", ast.Load()), slice=ast.Constant("locals"), ctx=ast.Load()),
                args=[], keywords=[]))]
        else:
            made = [made]
        binds = [ast.If(test=ast.Compare(left=ast.Constant(n), ops=[ast.In()], comparators=[ast.Name(cell, ast.Load())]),
                        body=[ast.Assign(targets=[ast.Name(n, ast.Store())], value=ast.Subscript(
                            value=ast.Name(cell, ast.Load()), slice=ast.Constant(n), ctx=ast.Load()))], orelse=[])
                 for n in names]
        return [ast.copy_location(s, node) for s in (*made, check, *binds)] + after

    def visit_If(self, node: ast.If):
        """`if ...: assert A` / `else: assert B` on a value of the program's (EvalPlus's helper of another form:
        `if not exact_match and atol != 0:`): each run takes one branch, so the other's asserts go unreached, as
        Python leaves them; each had to be reported, and every program failed the branch it never took. Their
        ranges are kept (`alternatives`): an assert of one passes unreported once one of the other was reported.
        An `if` the caller can decide (no value of the program's) keeps both required, as before."""
        start = self.index
        node.test = self.visit(node.test)
        node.body = self._block(node.body)
        middle = self.index
        node.orelse = self._block(node.orelse)
        if start < middle < self.index:
            try:
                decided = _caller_tree(node.test, self.bound) is not None
            except Exception:  # (as _fold_ifs: what the caller cannot read it cannot decide)
                decided = False
            if not decided:
                self.alternatives.append((range(start, middle), range(middle, self.index)))
        return node

    def _block(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in stmts:
            new = self.visit(stmt)
            out.extend(new if isinstance(new, list) else [] if new is None else [new])
        return out or ([ast.Pass()] if stmts else [])

    def visit_Try(self, node: ast.Try):
        """`try: f(-1); assert False; except ValueError: pass` (or the `assert False` under `else:`): a correct
        program never reaches the assert, so nothing would report (`raise AssertionError(...)` in place of the
        assert and `assert True` in place of `pass` are the same test). Rewritten so that how the body ended travels
        either way: the body runs as written, any exception is caught and the sandbox reports the names of the
        builtin exception classes it is one of (None if the body ended normally), and the caller passes the test
        when one of them is a class the test's handlers name. The handlers' builtin classes stay here: the
        program does not see which exception is expected; its own classes are decided in the sandbox (see
        _raise_check). A bare `except:` expects any exception. Handlers that do more than `pass` (`except
        ValueError as e: assert str(e) == "neg"`) run after the report, the exception raised again into them
        as written, so that how the body ended is still the caller's to decide and must be reported (as
        written, with only an `assert False` of no value of the program's, a program that ended the run inside
        the call passed, and `str(e)` of an exception, no plain value, failed every program). Other forms (a
        class not named by a plain or dotted name, one of a module the tests import, a variable of the tests':
        see _exception_classes) are left as written."""
        expected = self._expected_raise(node)
        if expected is None:
            return self.generic_visit(node)
        names, own, plain = expected
        return self._raise_check(node.body if node.orelse else node.body[:-1], names, own,
                                 handlers=None if plain else node.handlers)

    def visit_With(self, node: ast.With):
        """`with pytest.raises(ValueError): f(-1)` is the same test as the `try` form visit_Try rewrites, and is
        rewritten alike: run as written, `pytest.raises` would be the sandbox's, which the program can replace
        with a context that suppresses nothing. With `as excinfo`, the exception is bound to that name after
        the report (see _raise_check, _excinfo_expr). A `match=` that is not a string written in the tests, an
        `as` target that is not a name, or a class that is not named by a plain or dotted name: as written."""
        target = node.items[0].optional_vars if len(node.items) == 1 else None
        item = node.items[0].context_expr if len(node.items) == 1 and (
            target is None or isinstance(target, ast.Name)) else None
        unittest_form = isinstance(item, ast.Call) and _func_name(item.func) == "__ponder_ut_raises__"
        if unittest_form and not self._unittest_raises(node):
            self.unsupported = self.unsupported or "unsupported with self.assertRaises(...) of this form"
            return node
        if not (isinstance(item, ast.Call) and (_func_name(item.func) == "pytest.raises" and "pytest" not in self.bound
                                                or unittest_form) and len(item.args) == 1):
            return self.generic_visit(node)
        match = None
        for k in item.keywords:
            # match= is re.search of a pattern in str(exception), done here (see _match_check)
            if k.arg != "match" or not isinstance(k.value, ast.Constant) or type(k.value.value) is not str:
                return self.generic_visit(node)
            match = _match_check(k.value.value)
            if match[0] == "unsafe":
                self.unsupported = self.unsupported or f"unsupported pytest.raises match= pattern {match[1]!r}"
        expected = self._exception_classes(item.args[0])
        if expected is None:
            return self.generic_visit(node)
        if target is not None:
            self.excinfo.add(target.id)
        return self._raise_check(node.body, *expected, match, target and target.id)

    def _unittest_raises(self, node: ast.With) -> bool:
        """Whether visit_With decides this `with self.assertRaises...` (see _UnittestAsserts.visit_With)."""
        item = node.items[0].context_expr
        return self._exception_classes(item.args[0]) is not None and all(
            isinstance(k.value, ast.Constant) and type(k.value.value) is str for k in item.keywords)

    def _exception_classes(self, e: ast.expr) -> tuple[set[str], list[ast.expr]] | None:
        """The classes in `except <e>` / `pytest.raises(<e>)`: the names of builtin exception classes the tests
        do not bind (what the caller resolves itself), and the other classes, named by a name or a dotted name
        (`InsufficientFunds`, `bank.Overdraft`: the program's or the tests' own, which only the sandbox has);
        None for anything else (a call, a builtin that is no exception class, a builtin name the tests bind, a
        class of another module the tests import: `socket.timeout` is the builtin TimeoutError, which the check
        of a program's class refuses, so that test runs as written, as before)."""
        names, own = set(), []
        for t in e.elts if isinstance(e, ast.Tuple) else [e]:
            root = t
            while isinstance(root, ast.Attribute):
                root = root.value
            if not isinstance(root, ast.Name) or root.id in self.loop_vars or root.id in self.imported:
                return None
            if isinstance(t, ast.Name) and hasattr(builtins, t.id):
                if not self._builtin_exception(t):  # no exception class, or a name the tests bind
                    return None
                names.add(t.id)
            elif root.id in self.bound and root.id not in self.program_names:
                return None  # a variable of the tests (`err` of a parametrize case...): as written
            else:
                own.append(t)
        return names, own

    def _raise_check(self, body: list[ast.stmt], expected: set[str], own: list[ast.expr],
                     match: tuple | None = None, bind: str | None = None,
                     handlers: list[ast.ExceptHandler] | None = None) -> list[ast.stmt]:
        """`body` wrapped so that how it ended is reported, as test number self.index (see visit_Try); with
        `match` (see _match_check), the exception's message must match it; with `bind`, the exception is bound
        to that name as pytest's ExceptionInfo for the code after it (unbound if the body raised nothing, so
        that code fails as pytest would never have run it).

        Classes of the program's (`own`) are evaluated in the sandbox before the body, as pytest.raises(E)
        evaluates E (the body cannot rebind them), and the sandbox reports, for each, whether the exception's
        real type is a subclass of it as `except` decides (its MRO; a metaclass's __subclasscheck__ or
        __instancecheck__ is not asked) and it is no builtin exception class (`InsufficientFunds = Exception`
        would pass any exception). A report the program forges can claim that its class was raised, as the
        program could have raised it: that is within what it can do honestly.

        With `handlers` (a `try` whose handlers do more than `pass`), the exception is raised again after the
        report into those handlers as written, the names they bind read as exceptions (`str(e)` is the
        sandbox's str). One handler is entered whenever the check passes, so its asserts must be reported; of
        several, the caller finds the one entered (see _handlers), whose asserts must be reported, and the
        others' go unreached."""
        outer, self.raise_body = self.raise_body, True
        node = self.generic_visit(ast.Try(body=body, handlers=[], orelse=[], finalbody=[]))
        self.raise_body = outer
        own_name = f"__ponder_own{self.index}__"
        def report(exc: ast.expr) -> list[ast.stmt]:
            raised = _call("__ponder_raised__", exc, ast.Constant(match is not None),
                           ast.Name(own_name, ast.Load()) if own else ast.Constant(None))
            return [ast.Expr(_call("__ponder_check__", ast.Constant(self.index), raised))]
        real = ast.Subscript(value=ast.Name("__ponder_builtins__", ast.Load()), slice=ast.Constant("BaseException"),
                             ctx=ast.Load())
        # the report of a body that ended normally sits under `else:`, outside the try, so that an exception the
        # reporting raises (the program can rebind the helpers' names) is never taken for the body's
        caught = report(ast.Name("__ponder_exc__", ast.Load()))
        if bind:
            info = _call("__ponder_excinfo__", ast.Name("__ponder_exc__", ast.Load()))
            caught.append(ast.Assign(targets=[ast.Name(bind, ast.Store())], value=info, lineno=0))
        node.handlers = [ast.ExceptHandler(type=real, name="__ponder_exc__", body=caught)]
        node.orelse = report(ast.Constant(None))
        self.trees.append(("raises", ("leaf", 0), frozenset(expected), match, len(own)))
        self.index += 1
        if handlers:
            first, outer_names = self.index, self.excinfo
            self.excinfo = outer_names | {h.name for h in handlers if h.name}
            again = ast.Raise(exc=ast.Name("__ponder_exc__", ast.Load()), cause=None)
            check = self.index - 1
            caught.append(ast.Try(body=[again], handlers=self._handlers(handlers, check), orelse=[], finalbody=[]))
            self.excinfo = outer_names
            if len(handlers) > 1:
                self.optional.update(range(first, self.index))
                self.handler_asserts.update(range(first, self.index))
        if not own:
            return [node]
        classes = ast.Tuple(elts=[self._sandbox_code(c) for c in own], ctx=ast.Load())
        evaluate = ast.Assign(targets=[ast.Name(own_name, ast.Store())], lineno=0,
                              value=_call("__ponder_classes__", _lambda(classes)))
        return [evaluate, node]

    def _handlers(self, handlers: list[ast.ExceptHandler], check: int) -> list[ast.ExceptHandler]:
        """The handlers of the exception test number `check`, rewritten; for several, what each expects and
        which asserts it holds are kept in self.entered[check] (see _entered_handler), so that the caller
        requires the asserts of the one the exception enters."""
        out, spans, own = [], [], 0
        for h in handlers:
            start = self.index
            out.append(self.visit(h))
            names, mine = self._exception_classes(h.type) if h.type is not None else ({"BaseException"}, [])
            spans.append((frozenset(names), range(own, own + len(mine)), range(start, self.index)))
            own += len(mine)
        if len(handlers) > 1:
            self.entered[check] = spans
        return out

    def _expected_raise(self, node: ast.Try) -> tuple[set[str], list[ast.expr], bool] | None:
        """The exception classes (see _exception_classes) a `try` of the form visit_Try rewrites expects, and
        whether its handlers only `pass`; or None."""
        def literal_assert(s, truth: bool) -> bool:  # `assert False` / `assert True` (any such literal, message)
            ok, value = _literal(s.test) if isinstance(s, ast.Assert) else (False, None)
            return ok and bool(value) == truth
        def fails(stmts):  # exactly `assert False` or `raise AssertionError(<literals>)`
            if len(stmts) != 1:
                return False
            s = stmts[0]
            if isinstance(s, ast.Raise) and s.cause is None and "AssertionError" not in self.bound:
                e = s.exc.func if isinstance(s.exc, ast.Call) and not s.exc.keywords else s.exc
                args = s.exc.args if isinstance(s.exc, ast.Call) else []
                return (isinstance(e, ast.Name) and e.id == "AssertionError"
                        and all(_literal(a)[0] for a in args))
            return literal_assert(s, False)
        if node.finalbody or not node.handlers:
            return None
        if not (fails(node.orelse) and node.body or not node.orelse and fails(node.body[-1:]) and node.body[:-1]):
            return None
        names: set[str] = set()
        own: list[ast.expr] = []
        plain = True
        for h in node.handlers:
            plain = plain and all(isinstance(s, ast.Pass) or literal_assert(s, True)
                                  or isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                  for s in h.body)
            # a bare `except:` expects any exception (it catches the `assert False` too, as written: the
            # test could never fail)
            found = self._exception_classes(h.type) if h.type is not None else ({"BaseException"}, [])
            if found is None:
                return None  # `except get_error():`: left as written
            names |= found[0]
            own += found[1]
        return names, own, plain

    def _sandbox_code(self, e: ast.expr) -> ast.expr:
        """A copy of `e` to run in the sandbox, its builtin names meaning the builtins (and the assert's walruses
        binding in its cell, see _WalrusCell)."""
        code = _RealBuiltins(self.bound).visit(copy.deepcopy(e))
        return self.walrus.visit(code) if self.walrus is not None else code

    def _has_leaves(self, e: ast.expr) -> bool:
        probe: list = []
        mark = len(self.top)
        self.probing += 1
        try:
            self._expr(e, probe)
        finally:
            self.probing -= 1
        hoisted = len(self.top) > mark
        del self.top[mark:]
        return bool(probe) or hoisted

    def _whole_leaf(self, e: ast.expr) -> bool:
        """Whether `e` runs whole in the sandbox (its tree is one leaf)."""
        probe: list = []
        mark = len(self.top)
        self.probing += 1
        try:
            tree = self._expr(e, probe)
        finally:
            self.probing -= 1
        del self.top[mark:]
        return tree[0] == "leaf"

    def _builtin(self, e: ast.expr) -> bool:
        """A name for a builtin type the caller resolves (not rebound by the test)."""
        return isinstance(e, ast.Name) and e.id in _TYPES and e.id not in self.bound and e.id not in self.loop_vars

    def _plain_identity(self, e: ast.expr) -> bool:
        """`is` against this is meaningful on rebuilt values: None/True/False or a builtin type."""
        return _is_singleton(e) or self._builtin(e)

    def _expr(self, e: ast.expr, records: list):
        ok, value = _literal(e)
        if ok:
            return ("const", value)
        if isinstance(e, ast.Name) and e.id in self.loop_vars:
            return ("var", e.id)
        if self._builtin(e):
            return ("const", _TYPES[e.id])
        if (isinstance(e, ast.Attribute) and _func_name(e) in _MATH_CONSTS
                and _func_name(e).partition(".")[0] not in (*self.bound, *self.loop_vars)):
            return ("const", _MATH_CONSTS[_func_name(e)])
        if isinstance(e, ast.BoolOp):
            return ("and" if isinstance(e.op, ast.And) else "or", [self._expr(v, records) for v in e.values])
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.Not):
            operand = self._expr(e.operand, records)
            if operand[0] == "leaf":  # `not stack`: its truth
                operand = ("call", "bool", [self._apply_there(operand, records, "bool")], {})
            return ("not", operand)
        if isinstance(e, ast.UnaryOp) and type(e.op) in _UNARY:
            return ("unary", type(e.op), self._expr(e.operand, records))
        if isinstance(e, ast.BinOp) and type(e.op) in _BINOPS:
            return ("bin", type(e.op), self._expr(e.left, records), self._expr(e.right, records))
        if self.excinfo:
            tree = self._excinfo_expr(e, records)
            if tree is not None:
                return tree
        if isinstance(e, ast.Compare):
            parts = [e.left, *e.comparators]
            identity_ok = all(
                not isinstance(op, (ast.Is, ast.IsNot))
                or self._plain_identity(parts[i]) or self._plain_identity(parts[i + 1])
                for i, op in enumerate(e.ops))
            if identity_ok:  # `is` on rebuilt values is only meaningful against None/True/False or a builtin type
                # a generator compared (`y in (f(x, i) for i in ...)`) is iterated now, its value kept nowhere
                self.consumed.update(p for p in parts if isinstance(p, ast.GeneratorExp))
                trees, ops = [self._expr(p, records) for p in parts], [type(op) for op in e.ops]
                if (ops in ([ast.In], [ast.NotIn]) and trees[1][0] == "leaf" and _literal(e.left)[0]
                        and isinstance(e.comparators[0], ast.Name) and e.comparators[0].id in self.objects):
                    # `3 in stack` (`stack = Stack()`): the sandbox asks the program's object, as len(stack), the 3
                    # then written in its code; only there, as in `'funds' in str(e)` or `5 in result` the 5 is an
                    # expected value, which the program could read
                    self._apply_there(trees[1], records, "in", copy.deepcopy(e.left))
                elif any(op in (ast.Eq, ast.NotEq, ast.In, ast.NotIn, ast.Is, ast.IsNot) for op in ops):
                    # `f(x) == Point(1, 2)`, `in [...]`, `is not None`
                    # the container of a last `in` as the items an iterator of the program's holds (see struct_in)
                    last_in = ops[-1] in (ast.In, ast.NotIn)
                    # `i in big` of two values of the sandbox's, the left one's record just before: the sandbox may
                    # answer it itself (see the sandbox's apply)
                    there = (len(ops) == 1 and last_in and trees[0][0] == trees[1][0] == "leaf"
                             and trees[1][1] == trees[0][1] + 1)
                    trees = [self._struct(t, records, k == len(ops) and last_in, self._fresh(parts[k]))
                             for k, t in enumerate(trees)]
                    if there:
                        records[trees[1][1][1]].args.append(ast.Constant(True))
                return ("cmp", trees, ops)
        if isinstance(e, (ast.Tuple, ast.List)) and not any(isinstance(x, ast.Starred) for x in e.elts):
            return ("seq", "tuple" if isinstance(e, ast.Tuple) else "list", [self._expr(x, records) for x in e.elts])
        # a dict or set display with an expression in it (`{'a': 2 ** 3}`) is built here too, for the same reason
        if isinstance(e, ast.Set) and not any(isinstance(x, ast.Starred) for x in e.elts):
            return ("seq", "set", [self._expr(x, records) for x in e.elts])
        if isinstance(e, ast.Dict) and all(k is not None for k in e.keys):
            return ("dict", [(self._expr(k, records), self._expr(v, records)) for k, v in zip(e.keys, e.values)])
        name = _func_name(e.func) if isinstance(e, ast.Call) else None
        if (name in ("re.match", "re.fullmatch", "re.search") and "re" not in self.bound and "re" not in self.loop_vars
                and len(e.args) == 2 and not e.keywords and isinstance(e.args[0], ast.Constant)
                and type(e.args[0].value) is str):
            # `assert re.fullmatch(r'\d+', f(x))`: a match object is no plain value to send, so the caller
            # matches the program's text itself, with a pattern whose cost it can bound, as pytest.raises' match=
            check = _match_check(e.args[0].value)
            if check[0] == "unsafe":
                self.unsupported = self.unsupported or f"unsupported {name} pattern {check[1]!r}"
            return ("regex", name[3:], check, self._expr(e.args[1], records))
        if name in ("map", "filter") and name not in self.bound and name not in self.loop_vars:
            gen = self._as_generator(e)
            tree = gen and self._caller_comp(gen, "gen")
            if tree is not None:  # `map(str, [1, 2])` of the test's own values: built here, as its generator
                return tree
        if (name in _FUNCS and name.split(".")[0] not in self.bound and name.split(".")[0] not in self.loop_vars
                and not any(isinstance(a, ast.Starred) for a in e.args)
                and all(k.arg is not None and _literal(k.value)[0] for k in e.keywords)
                # isinstance(x, Node): the class lives in the sandbox, so the whole call stays there
                and not (name == "isinstance" and (len(e.args) != 2 or self._has_leaves(e.args[1])))
                and not (name in _OWN_ARGS_ONLY and any(self._has_leaves(a) for a in e.args))):
            if name == "zip" and len(e.args) > 1 and all(self._whole_leaf(a) for a in e.args):
                # `zip(it, it)` of the program's iterators, maybe one object: Python's zip takes their items in
                # turn, and as many as it needs; each sent whole, the first was drained before the second was
                # read. Run whole in the sandbox, it adds only zip to what runs there.
                return self._leaf(e, records)
            kwargs = {k.arg: ast.literal_eval(k.value) for k in e.keywords}
            if name in _CONSUMES:  # `all(f(x) == y for y in ...)`: run through here and now (see _comp)
                self.consumed.update(a for a in e.args if isinstance(a, ast.GeneratorExp))
            args = [self._expr(a, records) for a in e.args]
            if name in _APPLIED_THERE and len(args) == 1 and not kwargs:
                self._apply_there(args[0], records, name)
            for k, tree in enumerate(args):
                if tree[0] == "leaf" and (name in ("zip", "__ponder_count_equal__") or k == 0 and (name in _ITERATES or
                                                                       name in ("min", "max") and len(args) == 1)):
                    records[tree[1]].func.id = "__ponder_items__"  # a generator argument is its items, not a failure
            return ("call", name, args, kwargs)
        # an expected value written with a method, a slice or an f-string of the test's own values
        # (`'ab'.upper()`, `'abc'[::-1]`, `f'{3}x'`) is built here too; of a program's value it stays in the sandbox
        if isinstance(e, ast.Call) and self._caller_method(e):
            return ("method", e.func.attr, self._expr(e.func.value, records), [self._expr(a, records) for a in e.args],
                    {k.arg: self._expr(k.value, records) for k in e.keywords})
        if isinstance(e, ast.JoinedStr) and not any(
                self._has_leaves(v.value) or v.format_spec is not None and self._has_leaves(v.format_spec)
                for v in e.values if isinstance(v, ast.FormattedValue)):
            return ("fstr", [("field", self._expr(v.value, records), None if v.conversion < 0 else chr(v.conversion),
                              v.format_spec and self._expr(v.format_spec, records))
                             if isinstance(v, ast.FormattedValue) else self._expr(v, records) for v in e.values])
        if isinstance(e, (ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp)) and not any(
                g.is_async for g in e.generators):
            return self._comp(e, records)
        if isinstance(e, ast.Subscript) and not isinstance(e.slice, ast.Slice):
            value, index = self._expr(e.value, records), self._expr(e.slice, records)
            # `stack[0]`: an index the program may see, as any argument of a call; hashable, so that a plain
            # value ({index: item}) could give the item as well
            if index[0] == "const" and _hashable(index[1]):
                self._apply_there(value, records, "sub", copy.deepcopy(e.slice))
            return ("sub", value, index)
        if isinstance(e, ast.Subscript) and not any(
                self._has_leaves(x) for x in (e.value, e.slice.lower, e.slice.upper, e.slice.step) if x is not None):
            bounds = [("const", None) if x is None else self._expr(x, records)
                      for x in (e.slice.lower, e.slice.upper, e.slice.step)]
            return ("sub", self._expr(e.value, records), ("slice", bounds))
        if self.comp_vars and isinstance(e, ast.Name) and e.id not in self.comp_vars:
            # a test's table read inside a comprehension (`expected[i] for i in ...`): sent once, not per item
            self.top.append(_call("__ponder_val__", _lambda(self._sandbox_code(e))))
            return ("top", len(self.top) - 1)
        return self._leaf(e, records)

    def _excinfo_expr(self, e: ast.expr, records: list):
        """Trees for what a test reads of `with pytest.raises(...) as excinfo`, or None: `excinfo.match(p)` is
        decided here on the message; `excinfo.type is/== ValueError` here on the name of the builtin class the
        sandbox found it to be (by identity); `str(excinfo.value)` is the sandbox's str, as the exception is no
        plain value to send. Another comparison with `excinfo.type` runs whole in the sandbox."""
        check = self._excinfo_match(e)
        if check is not None:
            if check[0] == "unsafe":
                self.unsupported = self.unsupported or f"unsupported excinfo.match pattern {check[1]!r}"
            text = ast.Call(func=ast.Name("str", ast.Load()), args=[ast.Attribute(
                value=e.func.value, attr="value", ctx=ast.Load())], keywords=[])
            return ("match", self._leaf(text, records), check)
        if isinstance(e, ast.Compare) and any(self._excinfo_type(p) for p in [e.left, *e.comparators]):
            parts = [e.left, *e.comparators]
            if (len(parts) == 2 and type(e.ops[0]) in (ast.Is, ast.IsNot, ast.Eq, ast.NotEq)
                    and any(self._builtin_exception(p) for p in parts)):
                trees = []
                for p in parts:
                    if self._excinfo_type(p):
                        records.append(_call("__ponder_exc_type__", self._sandbox_code(p.value)))
                        trees.append(("exc_type", ("leaf", len(records) - 1)))
                    elif self._builtin_exception(p):
                        trees.append(("const", getattr(builtins, p.id)))
                    else:
                        trees.append(self._expr(p, records))
                return ("cmp", trees, [type(e.ops[0])])
            return self._leaf(e, records)
        if (isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id in ("str", "repr")
                and e.func.id not in self.bound and len(e.args) == 1 and not e.keywords
                and self._of_excinfo(e.args[0])):
            return self._leaf(e, records)
        return None

    def _struct(self, tree: tuple, records: list, container: bool = False, fresh: bool = False) -> tuple:
        """An operand of ==, != or `in` that, if an object of the program's, the caller compares as its type and
        fields (see the sandbox's `struct` and _Struct); so are the items of a display (`[f(1)] == [Point(1)]`).
        A `container` (the right operand of `in`) with no __contains__ goes as its items, as `in` iterates it (the
        sandbox's `struct_in`)."""
        if tree[0] == "seq":
            return (*tree[:2], [self._struct(t, records) for t in tree[2]])
        if tree[0] == "dict":
            return ("dict", [(self._struct(k, records), self._struct(v, records)) for k, v in tree[1]])
        if tree[0] != "leaf":
            return tree
        if container:  # (an iterator itself only if `fresh`: no name of the tests can see it drained, see _fresh)
            return ("struct", self._apply_there(tree, records, "struct_in", ast.Constant(fresh)))
        return ("struct", self._apply_there(tree, records, "struct"))

    def _fresh(self, e: ast.expr) -> bool:
        """Whether `e` gives a value no name of the tests can see again, an iterator struct_in may drain whole:
        Python's `in` stops at the first match, so `it = f(); assert 1 in it; assert 1 not in it` passed a
        generator of [1, 1] once drained. A call of the program's function or method is one (the program could
        drain what it returns itself); a builtin's, an imported function's or a test helper's (`map(str, it)`,
        `iter(it)`) only when its arguments are such calls or plain values."""
        if not isinstance(e, ast.Call):
            return False
        root = e.func
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and not (
                root.id in self.imported or root.id in self.loop_vars
                or (root is e.func and (root.id in self.bound or hasattr(builtins, root.id))
                    and root.id not in self.program_names)):
            return True
        return all(_literal(a)[0] or isinstance(a, ast.Lambda) or self._fresh(a) or self._builtin_name(a)
                   or (isinstance(a, ast.Attribute) and self._builtin_name(a.value))
                   for a in [*e.args, *(k.value for k in e.keywords)])

    def _builtin_name(self, e: ast.expr) -> bool:
        return (isinstance(e, ast.Name) and hasattr(builtins, e.id) and e.id not in self.bound
                and e.id not in self.loop_vars)

    def _apply_there(self, tree: tuple, records: list, op: str, *args: ast.expr) -> tuple:
        """`tree`, one of the operands of builtin `op` the caller applies (see _APPLIED_THERE), with its record, if
        a leaf, asking the sandbox to apply `op` itself when the value is no plain one (an object of the
        program's): ["R", result] in place of the value (see _Evaluator.applied)."""
        if tree[0] == "leaf":
            rec = records[tree[1]]
            if isinstance(rec, ast.Call) and isinstance(rec.func, ast.Name) and rec.func.id == "__ponder_val__":
                rec.func.id = "__ponder_apply__"
                rec.args = [ast.Constant(op), *rec.args, *args]
        return tree

    def _leaf(self, e: ast.expr, records: list) -> tuple:
        """`e` run whole in the sandbox: its value is a record of the assert."""
        records.append(_call("__ponder_val__", _lambda(self._sandbox_code(e))))
        return ("leaf", len(records) - 1)

    def _caller_method(self, e: ast.Call) -> bool:
        """Whether the caller applies this method call: one of _METHODS, on a receiver and with arguments that
        hold no value of the program's (a program's value may be an object with a method of that name)."""
        f = e.func
        if isinstance(f, ast.Attribute) and f.attr in ("all", "any") and not e.args and not e.keywords:
            return isinstance(f.value, ast.Compare) or (
                isinstance(f.value, ast.Call) and (_func_name(f.value.func) or "").startswith("numpy.")
                and _func_name(f.value.func) in _FUNCS and "numpy" not in self.bound)
        if not isinstance(f, ast.Attribute) or f.attr not in _METHOD_NAMES or self._builtin(f.value):
            return False  # `str.upper('ab')`: a method of a type, not of a value
        if any(isinstance(a, ast.Starred) for a in e.args) or any(k.arg is None for k in e.keywords):
            return False
        ok, recv = _literal(f.value)
        if ok and (int if type(recv) is bool else type(recv), f.attr) not in _METHODS:
            return False  # `{'a': 1}.count`...: as before, in the sandbox
        if f.attr == "format" and not (ok and type(recv) is str and _plain_fields(recv)):
            return False  # the caller must see every field of the format string before it trusts it
        return not any(self._has_leaves(x) for x in (f.value, *e.args, *(k.value for k in e.keywords)))

    def _comp(self, e, records: list):
        kind = {ast.GeneratorExp: "gen", ast.ListComp: "list", ast.SetComp: "set", ast.DictComp: "dict"}[type(e)]
        own = self._caller_comp(e, kind)
        if own is not None:
            return own
        outer_vars, outer_comp_vars = self.loop_vars, self.comp_vars
        levels, level_records = [], []
        for g in e.generators:
            pattern, iter_tree = _target_pattern(g.target), None
            if pattern is not None and not self._has_leaves(g.iter):
                tree = self._expr(g.iter, [])
                if _ordered(tree):
                    iter_tree = tree  # the caller knows the items: its own values stand in for the loop variables
            names = {n.id for n in ast.walk(g.target) if isinstance(n, ast.Name)}
            self.loop_vars = self.loop_vars | names if iter_tree is not None else self.loop_vars - names
            self.comp_vars = self.comp_vars | names
            cond_records: list[ast.expr] = []
            levels.append((pattern, iter_tree, [self._expr(c, cond_records) for c in g.ifs]))
            level_records.append(cond_records)
        elt_records: list[ast.expr] = []
        parts = [e.key, e.value] if isinstance(e, ast.DictComp) else [e.elt]
        elt = [self._expr(p, elt_records) for p in parts]
        self.loop_vars, self.comp_vars = outer_vars, outer_comp_vars
        # The sandbox's side, built from the innermost `for` outwards: per item [[condition records], inner],
        # where inner is the next `for`'s records or, innermost, the element's. Nothing is filtered there (the
        # caller decides the conditions), so like the operands of any assert, everything is evaluated eagerly.
        inner: ast.expr = ast.List(elts=elt_records, ctx=ast.Load())
        for g, (_, iter_tree, _), cond_records in reversed(list(zip(e.generators, levels, level_records))):
            body = ast.List(elts=[ast.List(elts=cond_records, ctx=ast.Load()), inner], ctx=ast.Load())
            projected = self._projection(g, iter_tree, body) if iter_tree is not None else None
            target, iterable = projected or (g.target, self._sandbox_code(g.iter))
            per_item = ast.Subscript(value=ast.ListComp(elt=body, generators=[ast.comprehension(
                target=target, iter=ast.Tuple(elts=[ast.Name("__ponder_item__", ast.Load())], ctx=ast.Load()),
                ifs=[], is_async=0)]), slice=ast.Constant(0), ctx=ast.Load())
            inner = _call("__ponder_for__", _lambda(iterable), _lambda(per_item, "__ponder_item__"))
        if kind == "gen" and e not in self.consumed and not self.probing:
            # The sandbox reports a comprehension's operands item by item, at once, each with its own value of
            # the variables of the comprehensions around it; Python runs a generator expression's body when
            # it is iterated, reading them as they are then: after the loop around it moved on, when the
            # generator outlives its item (`list([(f(x) for _ in 'a') for x in range(3)][0])` is [f(2)]).
            # Unless a builtin iterates it where it stands, its sandbox code (past its first iterable, which
            # Python also evaluates at once) may not read them: the caller could not tell which values it saw.
            own = {n.id for g in e.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
            read = sorted({n.id for n in ast.walk(inner.args[1]) if isinstance(n, ast.Name)
                           and isinstance(n.ctx, ast.Load) and n.id in outer_comp_vars - own})
            if read:
                self.unsupported = self.unsupported or (
                    f"unsupported generator expression reading {read[0]!r} of a comprehension around it")
        records.append(inner)
        return ("comp", kind, levels, elt, len(records) - 1)

    def _as_generator(self, e: ast.Call) -> ast.GeneratorExp | None:
        """`map(fn, xs, ys)` / `filter(fn, xs)` as the generator expression it iterates like, for a `fn` that is
        a plain lambda, a builtin the caller applies, or (filter) None; else None."""
        if e.keywords or any(isinstance(a, ast.Starred) for a in e.args) or len(e.args) < 2:
            return None
        fn, iters = e.args[0], e.args[1:]
        if e.func.id == "filter" and len(iters) != 1:
            return None
        if isinstance(fn, ast.Lambda):
            a = fn.args
            if a.vararg or a.kwarg or a.kwonlyargs or a.defaults or len(a.posonlyargs) + len(a.args) != len(iters):
                return None
            params = [p.arg for p in (*a.posonlyargs, *a.args)]
            value = fn.body
        elif _is_singleton(fn) and fn.value is None and e.func.id == "filter":
            params = ["__ponder_x0__"]
            value = ast.Name(params[0], ast.Load())
        elif (_func_name(fn) in _FUNCS and _func_name(fn).split(".")[0] not in self.bound
              and _func_name(fn).split(".")[0] not in self.loop_vars):
            params = [f"__ponder_x{k}__" for k in range(len(iters))]
            value = ast.Call(func=fn, args=[ast.Name(p, ast.Load()) for p in params], keywords=[])
        else:
            return None
        if len(iters) == 1:
            target, iterable = ast.Name(params[0], ast.Store()), iters[0]
        elif "zip" in self.bound or "zip" in self.loop_vars:
            return None
        else:  # map over several iterables stops at the shortest, as zip does
            target = ast.Tuple(elts=[ast.Name(p, ast.Store()) for p in params], ctx=ast.Store())
            iterable = _call("zip", *iters)
        item = ast.Name(params[0], ast.Load()) if e.func.id == "filter" else value
        ifs = [value] if e.func.id == "filter" else []
        return ast.GeneratorExp(elt=item, generators=[ast.comprehension(target=target, iter=iterable, ifs=ifs,
                                                                        is_async=0)])

    def _caller_comp(self, e, kind: str):
        """A comprehension that holds no value of the program's (`[i * i for i in range(5)]`,
        `', '.join(str(i) for i in range(3))`) as a tree the caller evaluates alone, or None. Sent to the sandbox,
        even as per-item records, its code is there for the program to run and return what it gives."""
        if any(_target_pattern(g.target) is None for g in e.generators):
            return None
        outer_vars, outer_comp_vars = self.loop_vars, self.comp_vars
        probe: list = []
        mark = len(self.top)
        levels = []
        self.probing += 1
        try:
            for g in e.generators:  # an iterable sees the loop variables of the `for`s before it, as in Python
                iter_tree = self._expr(g.iter, probe)
                names = {n.id for n in ast.walk(g.target) if isinstance(n, ast.Name)}
                self.loop_vars, self.comp_vars = self.loop_vars | names, self.comp_vars | names
                levels.append((_target_pattern(g.target), iter_tree, [self._expr(c, probe) for c in g.ifs]))
            elt = [self._expr(p, probe) for p in ([e.key, e.value] if isinstance(e, ast.DictComp) else [e.elt])]
        finally:
            self.loop_vars, self.comp_vars = outer_vars, outer_comp_vars
            self.probing -= 1
        if probe or len(self.top) > mark:  # it reads a value of the program's: per item, as before
            del self.top[mark:]
            return None
        return ("caller_comp", kind, levels, elt)

    def _projection(self, g: ast.comprehension, iter_tree, body: ast.expr):
        """What the sandbox iterates for a `for` over items the caller knows: only the loop variables the
        sandbox's code uses, as data, so `all(f(x) == y for x, y in [(1, 2), (3, 4)])` never shows the program
        a y (and a program's global `range` cannot change the iteration). Falls back to the test's own iterable
        when the items depend on an outer loop or are too many to send (None)."""
        names = {n.id for n in ast.walk(g.target) if isinstance(n, ast.Name)}
        used = sorted({n.id for n in ast.walk(body) if isinstance(n, ast.Name) and n.id in names})
        try:
            items = _Evaluator().items(iter_tree, {}, _MAX_PROJECTED + 1)
            if len(items) > _MAX_PROJECTED:
                return None
            rows = []
            for item in items:
                env: dict = {}
                _bind(_target_pattern(g.target), item, env)
                rows.append(tuple(env[n] for n in used) if len(used) != 1 else env[used[0]])
            data = _value_ast(rows)
        except (_TestFailed, ValueError, RecursionError):
            return None
        if len(used) == 1:
            return ast.Name(used[0], ast.Store()), data
        return ast.Tuple(elts=[ast.Name(n, ast.Store()) for n in used], ctx=ast.Store()), data


class _Piece:
    """A part of a deep value that the sandbox sent as a piece of its own (see the harness's `deeper`), decoded
    already: by _decode ("e") or _unstruct ("s"); None if it was malformed."""

    def __init__(self, kind: str, value, ok: bool = True):
        self.kind, self.value, self.ok = kind, value, ok


_BAD_PIECE = _Piece("", None, False)


# Pieces one inside another at most (a linked list of 5,000 nodes at 25 a piece): a forged report's chain of
# pieces, each up to 150 levels deep, must not nest a tuple so deep that hash(), which C recurses through with no
# limit, overflows the caller's stack (200,000 levels do in a thread with 8 MiB of it)
_MAX_PIECE_CHAIN = 200


def _swap_refs(data, pieces: dict, used: set, above: int, chain: dict):
    """`data` (a report's JSON) with each ["@", k] replaced by piece k, which must be decoded, past index `above`
    (so no piece holds itself) and used once; a bad reference becomes a bad piece. Iterative: pieces are shallow,
    a report's top is not bounded in width. Also the longest chain (see `chain`) of the pieces it holds."""
    deepest = [0]

    def swap(x):
        if type(x) is list and len(x) == 2 and x[0] == "@":
            k = x[1]
            if type(k) is int and k > above and k not in used and k in pieces:
                used.add(k)
                deepest[0] = max(deepest[0], chain[k])
                return pieces[k]
            return _BAD_PIECE
        if type(x) is list:
            todo.append(x)
        return x
    todo: list = []
    root = swap(data)
    while todo:
        x = todo.pop()
        x[:] = [swap(i) for i in x]
    return root, deepest[0]


def _with_pieces(values, table):
    """A report's values with the pieces of its deep values (its "g") put in place, decoded, deepest first."""
    if not table:
        return values
    if type(table) is not list:
        raise _TestFailed("malformed value")
    pieces: dict = {}
    used: set = set()
    chain: dict = {}  # k: how many pieces deep piece k goes, itself included
    for k in range(len(table) - 1, -1, -1):
        entry = table[k]
        if type(entry) is not list or len(entry) != 2 or entry[0] not in ("e", "s"):
            continue
        data, below = _swap_refs(entry[1], pieces, used, k, chain)
        chain[k] = below + 1
        try:
            if chain[k] > _MAX_PIECE_CHAIN:
                raise ValueError("value nested too deeply")
            pieces[k] = _Piece(entry[0], _decode(data) if entry[0] == "e" else _unstruct(data))
        except (ValueError, TypeError, KeyError, RecursionError):
            pieces[k] = _BAD_PIECE
    return _swap_refs(values, pieces, used, -1, chain)[0]


def _decode(x, depth: int = 0):
    """Rebuild a value the child serialised; anything malformed raises ValueError (the test fails)."""
    if type(x) is _Piece:
        if x.kind != "e" or not x.ok:
            raise ValueError("malformed value")
        return x.value
    if depth > 100 or not isinstance(x, list) or not x or not isinstance(x[0], str):
        raise ValueError("malformed value")
    tag = x[0]
    try:
        if tag == "N":
            return None
        if tag == "b" and isinstance(x[1], bool):
            return x[1]
        if tag == "i" and isinstance(x[1], str):
            return int(x[1], 16)
        if tag == "f" and isinstance(x[1], str):
            return float.fromhex(x[1])
        if tag == "c":
            return complex(float.fromhex(x[1]), float.fromhex(x[2]))
        if tag == "s" and isinstance(x[1], str):
            return x[1]
        if tag == "y" and isinstance(x[1], str):
            return bytes.fromhex(x[1])
        if tag == "Y" and isinstance(x[1], str):
            return bytearray.fromhex(x[1])
        if tag == "r" and all(isinstance(i, str) for i in x[1:4]) and len(x) == 4:
            r = range(*(int(i, 16) for i in x[1:]))
            # a range stands for its items, which the caller may iterate: no more than a report could have
            # carried as a list (range(10 ** 18) is a few bytes)
            if len(r) <= _MAX_RANGE:  # (OverflowError past sys.maxsize: malformed)
                return r
        if tag in ("l", "t", "S", "F") and isinstance(x[1], list):
            items = [_decode(i, depth + 1) for i in x[1]]
            return {"l": list, "t": tuple, "S": set, "F": frozenset}[tag](items)
        if tag == "d" and isinstance(x[1], list):
            return {_decode(k, depth + 1): _decode(v, depth + 1) for k, v in x[1]}
        if tag == "K" and isinstance(x[1], list):  # a dict's keys: set-like, in order, as the sandbox's
            return dict.fromkeys([_decode(k, depth + 1) for k in x[1]]).keys()
        if tag == "J" and isinstance(x[1], list):  # its items
            return dict([(_decode(k, depth + 1), _decode(v, depth + 1)) for k, v in x[1]]).items()
        if tag == "q" and isinstance(x[1], str) and isinstance(x[2], str):  # a Fraction: small enough to work on
            n, d = int(x[1], 16), int(x[2], 16)
            if d > 0 and max(n.bit_length(), d.bit_length()) <= _EXACT_BITS:
                return fractions.Fraction(n, d)
        if tag == "D" and isinstance(x[1], str) and len(x[1]) <= 2 * _EXACT_DIGITS:  # a Decimal, as small
            v = decimal.Decimal(x[1])
            if not v.is_finite() or (len(v.as_tuple().digits) <= _EXACT_DIGITS
                                     and abs(v.as_tuple().exponent) <= _EXACT_DIGITS):
                return v
        if tag == "Q" and isinstance(x[1], list) and (x[2] is None or isinstance(x[2], str)):  # a deque
            return collections.deque([_decode(i, depth + 1) for i in x[1]], None if x[2] is None else int(x[2], 16))
        if tag in _DATETIMES and isinstance(x[1], list) and all(isinstance(i, str) for i in x[1]):
            cls, tz = _DATETIMES[tag], ()
            if tag in "Th" and x[2] is not None:
                tz = (datetime.timezone(_decode(x[2], depth + 1)),)  # a timedelta, or it fails
            args = [int(i, 16) for i in x[1]]
            return cls(*args[:-1], *tz, fold=args[-1]) if tag in "Th" else cls(*args)
        if tag == "A":  # a NumPy array: the list it holds (a 0-d one, its number)
            v = _decode(x[1], depth + 1)
            return _Array(v) if type(v) is list else v
    except (TypeError, ValueError, IndexError, OverflowError, ArithmeticError):
        pass
    raise ValueError("malformed value")


# what the sandbox's tags for dates and times stand for (see enc)
_DATETIMES = {"T": datetime.datetime, "a": datetime.date, "h": datetime.time, "e": datetime.timedelta}
_CONTAINERS = (list, tuple, set, frozenset, dict, collections.deque, type({}.keys()), type({}.items()))
_MAX_RANGE = 1 << 20  # items of a range the sandbox sends (as many as a report could carry as a list)
_SIZED = (str, bytes, bytearray, *_CONTAINERS)  # what _deep_len counts by length
_SCALARS = frozenset({int, float, complex, bool, type(None)})  # never _SIZED


def _deep_len(v, limit: int) -> int:
    """Elements of `v` counted through nested containers, a shared one as often as it occurs (as printing or
    comparing it would visit it); stops counting past `limit`."""
    if not isinstance(v, _SIZED):
        return 1  # a scalar: a comprehension the caller evaluates asks this for each of ~500k items
    n, todo = 0, [v]
    while todo and n <= limit:
        x = todo.pop()
        if isinstance(x, (str, bytes, bytearray)):
            n += len(x)
        elif isinstance(x, _CONTAINERS):
            n += len(x)
            if n <= limit:
                # scanned at C speed, no Python frame per element: a list of a million numbers (a
                # comprehension's item) costs milliseconds, not a second
                items = list(itertools.chain.from_iterable(x.items())) if isinstance(x, dict) else x  # read twice
                if not _SCALARS.issuperset(map(type, items)):
                    todo.extend(itertools.compress(items, map(isinstance, items, itertools.repeat(_SIZED))))
        else:
            n += 1
    return n


def _text_bound(v, limit: int = _MAX_LEN) -> int:
    """An upper bound on the length of str(v), repr(v) and ascii(v) for a plain value, counted without building
    the text (a shared container as often as it occurs); stops counting past `limit`."""
    n, todo = 0, [v]
    while todo and n <= limit:
        x = todo.pop()
        t = type(x)
        if t is str:
            n += 10 * len(x) + 2  # ascii('\U0001f600') is 12 characters
        elif t is bytes or t is bytearray:
            n += 4 * len(x) + 14  # bytearray(b'...')
        elif t is int:
            n += x.bit_length() // 3 + 3  # octal digits, sign and prefix
        elif t is float:
            n += 330  # '%f' % 1e308 has 309 digits; a precision is counted separately
        elif t is complex:
            n += 700
        elif t is fractions.Fraction:
            n += (x.numerator.bit_length() + x.denominator.bit_length()) // 3 + 16
        elif t is decimal.Decimal:  # '%f' of 1E+4300 has 4301 digits
            n += 2 * _EXACT_DIGITS + 16
        elif t in _DATETIMES.values() or t is datetime.timezone:  # the repr of an aware datetime
            n += 160
        elif isinstance(x, _CONTAINERS):
            n += 16 + 4 * len(x)
            if n <= limit:
                todo.extend(itertools.chain(*x.items()) if isinstance(x, dict) else x)
        else:
            n += 16
    return n


_FORMAT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?[hlL]?.", re.DOTALL)


def _format_size(fmt: str | bytes | bytearray, args) -> int:
    """An upper bound on len(fmt % args): the format, every width and precision (also those given by `*`), and
    for each conversion the longest text of any argument. `'%2000000000d' % 7` is refused before it is built."""
    text = fmt.decode("latin-1") if isinstance(fmt, (bytes, bytearray)) else fmt
    values = [*args.values(), args] if isinstance(args, dict) else list(args) if type(args) is tuple else [args]
    specs = _FORMAT_SPEC.findall(text)
    size = len(text)
    for field in itertools.chain(*specs):
        if field == "*":
            size += max((abs(v) for v in values if type(v) is int), default=0)
        elif field:
            size += int(field) if len(field) < 20 else _MAX_LEN + 1
    widest = max((_text_bound(v) for v in values), default=0)
    return size + len(specs) * widest


def _tree_size(tree) -> int:
    """Nodes of caller-side trees (a constant counts once, however big its value)."""
    if isinstance(tree, tuple) and tree and tree[0] == "const":
        return 1
    if isinstance(tree, (tuple, list)):
        return (type(tree) is tuple and bool(tree) and type(tree[0]) is str) + sum(_tree_size(x) for x in tree)
    if isinstance(tree, dict):
        return sum(_tree_size(x) for x in tree.values())
    return 0


def _unrelated_builtins(names: list) -> int:
    """How many of the builtin exception classes named in `names` (what an exception was found to be an
    instance of) have no subclass among the others: unrelated classes it is each of at once. A real
    exception is one, two at most (io.UnsupportedOperation is an OSError and a ValueError, numpy's AxisError
    a ValueError and an IndexError); a class made to be ValueError, TypeError, KeyError... at once passes any
    check of those, so more than two fail one (pytest would accept it)."""
    classes = {_builtin_exception_class(n) for n in names} - {None}
    return sum(not any(d is not c and issubclass(d, c) for d in classes) for c in classes)


class _Evaluator:
    """Applies the tests' caller-side parts (see _AssertRewriter) to the values the sandbox reported.

    Everything here runs in the caller on values the program chose, so every operation is bounded: one
    operation builds at most _MAX_LEN elements, and one run's work (elements built, items iterated, big-integer
    word products) stays under _MAX_WORK. Past that the test fails."""

    def __init__(self):
        self.left = _MAX_WORK
        self.top: list = []  # the records of the report being judged ("top" operands live there)
        self.top_values: dict = {}  # decoded once per report: a comprehension reads them for every item

    def judge(self, tree, values: list) -> bool:
        """Whether one report of an assert passes."""
        self.top, self.top_values = values, {}
        return bool(self.eval(tree, values))

    def matches(self, match: tuple, message: str) -> bool:
        """pytest's re.search(pattern, message) for a _match_check, charged its worst-case cost."""
        self.spend(len(message) + 1)
        if match[0] == "text":
            return match[1] in message
        if match[0] != "regex" or len(message) > match[2]:
            return False  # a pattern that does not compile, or a message too long to search
        self.spend((len(message) + 1) ** (match[3] + 1))
        return re.search(match[1], message) is not None

    def spend(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise _TestFailed("too much work for the caller")

    def _charge(self, v) -> None:
        if isinstance(v, (str, bytes, bytearray, range, *_CONTAINERS)):
            self.spend(len(v) + 1)
        elif type(v) is int:
            self.spend(v.bit_length() // 64 + 1)
        else:
            self.spend(1)

    def _guard(self, op, a, b) -> None:
        """Refuse, before it runs, an operation whose result or cost is out of proportion."""
        for x in (a, b):
            if type(x) is int and x.bit_length() > _MAX_BITS:
                raise _TestFailed("integer too large")
            if type(x) is fractions.Fraction:  # each operation multiplies and reduces (a gcd) its parts
                bits = max(x.numerator.bit_length(), x.denominator.bit_length())
                if bits > _MAX_BITS:
                    raise _TestFailed("fraction too large")
                self.spend((bits // 64 + 1) ** 2)
        if type(a) is int and type(b) is int and op in (ast.Mult, ast.FloorDiv, ast.Mod):
            self.spend((a.bit_length() // 64 + 1) * (b.bit_length() // 64 + 1))  # schoolbook cost, roughly
        if op is ast.Pow and fractions.Fraction in (type(a), type(b)):
            _power_check(a, b)  # of a Fraction, or by an integral one
        if op is ast.Pow and isinstance(a, int) and isinstance(b, int) and b > 0:
            _power_check(a, b)
            size = 1 if abs(a) <= 1 else (a.bit_length() * b) // 64 + 1
            self.spend(b.bit_length() * size)  # squarings, each at most as big as the result
        if op is ast.LShift and isinstance(a, int) and isinstance(b, int) and a and b > _MAX_BITS - a.bit_length():
            raise _TestFailed("shift too large")
        seqs = (str, bytes, bytearray, list, tuple, collections.deque)
        if op is ast.Mult:
            for seq, n in ((a, b), (b, a)):
                if isinstance(seq, seqs) and not isinstance(seq, _Array) and type(n) is int and n > 0:
                    if n > _MAX_LEN or _deep_len(seq, _MAX_LEN // n) * n > _MAX_LEN:
                        raise _TestFailed("product too large")
                    self.spend(len(seq) * n)
        elif op is ast.Add and isinstance(a, seqs) and isinstance(b, seqs):
            if len(a) + len(b) > _MAX_LEN:
                raise _TestFailed("sum too large")
            self.spend(len(a) + len(b))
        elif op is ast.Mod and isinstance(a, (str, bytes, bytearray)):  # string formatting
            size = _format_size(a, b)
            if size > _MAX_LEN:
                raise _TestFailed("formatted string too large")
            self.spend(size)

    @staticmethod
    def _payload(rec):
        """What an ["ok", payload] record holds; an ["err", why] (or malformed) one fails the test."""
        if not isinstance(rec, list) or len(rec) != 2:
            raise _TestFailed("missing value")
        status, payload = rec
        if status != "ok":
            raise _TestFailed(str(payload)[:200])
        return payload

    def _record(self, values, i):
        """The payload of record i of a report."""
        if not isinstance(values, list) or type(i) is not int or not 0 <= i < len(values):
            raise _TestFailed("missing value")
        return self._payload(values[i])

    def items(self, iter_tree, env: dict, at_most: int) -> list:
        """Up to `at_most` items of an iterable the caller evaluates itself."""
        value = self.eval(iter_tree, [], env)
        found = list(itertools.islice(_apply(iter, value), at_most))
        self.spend(len(found))
        return found

    def eval(self, tree, values: list, env: dict | None = None):
        kind = tree[0]
        if kind == "const":
            return tree[1]
        if kind == "var":
            try:
                return env[tree[1]]  # a _Scope reads the comprehensions around it
            except (KeyError, TypeError):  # (TypeError: env is None)
                raise _TestFailed("unbound loop variable") from None
        if kind == "top" and tree[1] in self.top_values:
            return self.top_values[tree[1]]  # nothing here changes a value in place, so sharing it is safe
        if kind in ("leaf", "top"):
            try:
                value = _decode(self._record(values if kind == "leaf" else self.top, tree[1]))
            except ValueError as e:
                raise _TestFailed(str(e)) from None
            if kind == "top":
                self.top_values[tree[1]] = value
            return value
        if kind == "not":
            return not self.eval(tree[1], values, env)
        if kind in ("and", "or"):
            v = None
            for sub in tree[1]:  # short-circuit like Python; an operand the test never needed may have raised
                v = self.eval(sub, values, env)
                if bool(v) != (kind == "and"):
                    return v
            return v
        if kind == "struct":
            applied = self._applied("struct", tree[1], values)
            if applied is None:
                return self.eval(tree[1], values, env)
            try:
                return _unstruct_top(applied[0])
            except (ValueError, TypeError, KeyError) as e:
                raise _TestFailed("malformed value") from e
        if kind == "cmp":
            operands, ops = tree[1], tree[2]
            if ops in ([ast.In], [ast.NotIn]):
                applied = self._applied("in", operands[1], values)
                if applied is not None:  # `3 in stack`, asked of the program's object
                    return applied[0] is (ops[0] is ast.In)
                # (only where the left operand is the sandbox's value of the record just before, as the rewriter
                # asks it: with the left one a value of the caller's, `5 in f(x)`, a report the program writes
                # itself could claim any membership without knowing 5)
                if (operands[1][0] == "struct" and operands[1][1][0] == "leaf" and operands[0][0] == "struct"
                        and operands[0][1][0] == "leaf" and operands[0][1][1] == operands[1][1][1] - 1):
                    payload = self._record(values, operands[1][1][1])
                    if (isinstance(payload, list) and len(payload) == 2 and payload[0] == "R"
                            and isinstance(payload[1], list) and len(payload[1]) == 2 and payload[1][0] == "H"):
                        if type(payload[1][1]) is not bool:  # `i in big` the sandbox answered (see its apply)
                            raise _TestFailed("in: not a bool")
                        return payload[1][1] is (ops[0] is ast.In)
            left = self.eval(operands[0], values, env)
            for op, right_tree in zip(ops, operands[1:]):
                right = self.eval(right_tree, values, env)
                if not _apply(_OPS[op], left, right):
                    return False
                left = right
            return True
        if kind == "unary":
            return _apply(_UNARY[tree[1]], self.eval(tree[2], values, env))
        if kind == "bin":
            a, b = self.eval(tree[2], values, env), self.eval(tree[3], values, env)
            self._guard(tree[1], a, b)
            result = _apply(_BINOPS[tree[1]], a, b)
            self._charge(result)
            return result
        if kind == "seq":
            items = [self.eval(t, values, env) for t in tree[2]]
            self.spend(len(items) + 1)
            return _apply({"tuple": tuple, "list": list, "set": set}[tree[1]], items)
        if kind == "dict":
            pairs = [(self.eval(k, values, env), self.eval(v, values, env)) for k, v in tree[1]]
            self.spend(len(pairs) + 1)
            return _apply(dict, pairs)
        if kind == "call":
            applied = self._applied(tree[1], tree[2][0], values) if len(tree[2]) == 1 else None
            if applied is not None:
                return applied[0]
            args = [self.eval(a, values, env) for a in tree[2]]
            result = _apply(_FUNCS[tree[1]], *args, **tree[3])
            self._charge(result)
            return result
        if kind == "raises":  # how the body ended (see the harness's `raised`): did it raise an expected one
            report, match = self.eval(tree[1], values, env), tree[3]
            if type(report) is not list or len(report) != 3:
                return False  # None: it raised nothing
            names, message, hits = report
            if type(names) is not list or type(hits) is not list or len(hits) != tree[4]:
                return False
            if match is not None:
                if type(message) is not str:
                    return False
                if not self.matches(match, message):
                    return False
            self.spend(len(names) + 1)
            return ((any(type(n) is str and n in tree[2] for n in names) and _unrelated_builtins(names) <= 2)
                    or any(h is True for h in hits))
        if kind == "match":  # excinfo.match(pattern): the sandbox's str of the exception, searched here
            message = self.eval(tree[1], values, env)
            if type(message) is not str:
                return False
            if not self.matches(tree[2], message):
                raise _TestFailed("excinfo.match")  # as pytest's, which raises AssertionError
            return True
        if kind == "regex":  # re.match/fullmatch/search(pattern, text) of a _match_check, charged its cost
            text, check = self.eval(tree[3], values, env), tree[2]
            if type(text) is not str or check[0] not in ("text", "regex"):
                raise _TestFailed(f"re.{tree[1]}")  # not a text, or a pattern that does not compile: as Python
            if check[0] == "regex" and len(text) > check[2]:
                raise _TestFailed("text too long to match")  # never None: `re.search(p, f(x)) is None` fails
            self.spend(len(text) + len(check[1]) + 1)
            if check[0] == "regex":
                self.spend((len(text) + 1) ** (check[3] + 1))
            return getattr(re, tree[1])(check[1], text)
        if kind == "exc_type":  # the builtin exception class of that name, or a class the caller does not have
            name = self.eval(tree[1], values, env)
            cls = _builtin_exception_class(name)
            return _OtherClass() if cls is None else cls
        if kind == "comp":
            return self._comp(tree, values, env)
        if kind == "caller_comp":
            levels = tree[2]
            scope = _Scope(env, frozenset().union(*(_pattern_names(p) for p, _, _ in levels)))
            # the first iterable is evaluated (and iter() called on it) where the comprehension is, at once, even
            # for a generator expression; the rest run in its own scope, item by item
            first = _apply(iter, self.eval(levels[0][1], values, env))
            gen = self._caller_walk(levels, tree[3], 0, values, scope, [_MAX_LEN], first)
            if tree[1] == "gen":
                return gen  # lazy, like Python's: any() and all() stop early
            return _apply(_COLLECT[tree[1]], gen)
        if kind == "sub":
            applied = self._applied("sub", tree[1], values)
            if applied is not None:
                return applied[0]
            value, index = self.eval(tree[1], values, env), self.eval(tree[2], values, env)
            result = _apply(operator.getitem, value, index)
            if type(index) is slice:
                self._charge(result)  # a copy, at most as long as the value
            return result
        if kind == "slice":
            return slice(*(self.eval(t, values, env) for t in tree[1]))
        if kind == "method":
            receiver = self.eval(tree[2], values, env)
            args = [self.eval(a, values, env) for a in tree[3]]
            kwargs = {k: self.eval(v, values, env) for k, v in tree[4].items()}
            fn = _METHODS.get((int if type(receiver) is bool else type(receiver), tree[1]))
            if fn is None:  # a loop variable's item of another type
                raise _TestFailed(f"{type(receiver).__name__}.{tree[1]} is not applied by the caller")
            result = _apply(fn, receiver, *args, **kwargs)
            self._charge(result)
            return result
        if kind == "fstr":
            fmt, parts = _Formatter(), []
            for part in tree[1]:
                if part[0] != "field":
                    parts.append(self.eval(part, values, env))
                    continue
                value = self.eval(part[1], values, env)
                spec = "" if part[3] is None else self.eval(part[3], values, env)
                parts.append(_apply(fmt.format_field, _apply(fmt.convert_field, value, part[2]), spec))
            result = "".join(parts)
            self._charge(result)
            return result
        raise _TestFailed("bad tree")

    def _applied(self, op: str, arg: tuple, values: list) -> tuple | None:
        """(result,) where the sandbox applied builtin `op` to the program's object `arg` (see _APPLIED_THERE),
        else None: a plain value, to which the caller applies it."""
        if op not in _APPLIED_THERE or arg[0] != "leaf":
            return None
        payload = self._record(values, arg[1])
        if not (isinstance(payload, list) and len(payload) == 2 and payload[0] == "R"):
            return None
        try:
            # struct's description as it is (its deep parts pieces already), which _unstruct reads
            result = payload[1] if op == "struct" else _decode(payload[1])
        except ValueError as e:
            raise _TestFailed(str(e)) from None
        want = _APPLIED_THERE[op]
        if want is not object and type(result) is not want or want is int and result < 0 and op == "len":
            raise _TestFailed(f"{op}: not a {want.__name__}")
        return (result,)

    def _comp(self, tree, values, env):
        _, kind, levels, elt, slot = tree
        items = self._record(values, slot)
        # one scope for the comprehension, as _Scope says; its first iterable's items are the caller's at once
        scope = _Scope(env, frozenset().union(*(_pattern_names(p) for p, _, _ in levels if p is not None)))
        known = self._known(levels[0][1], env, items)
        gen = self._walk(levels, elt, 0, items, scope, known)
        if kind == "gen":
            return gen  # lazy, like Python's: all() and any() stop early, later operands may have failed
        return _apply(_COLLECT[kind], gen)

    def _known(self, iter_tree, env, items) -> list | None:
        """The caller's own items of a comprehension's `for` over items it knows (None for the sandbox's): the
        sandbox must have gone through exactly as many."""
        if not isinstance(items, list):
            raise _TestFailed("malformed value")
        if iter_tree is None:
            return None
        known = self.items(iter_tree, env, len(items) + 1)
        if len(known) != len(items):
            raise _TestFailed("comprehension ran over other items")
        return known

    def _walk(self, levels, elt, depth, items, scope, known):
        """The elements of a comprehension, level `depth` on: the caller decides conditions and elements."""
        pattern, _, conds = levels[depth]
        for k, item in enumerate(items):
            self.spend(1)
            if not isinstance(item, list) or len(item) != 2:
                raise _TestFailed("malformed value")
            cond_values, inner = item
            if known is not None:
                _bind(pattern, known[k], scope)
            if all(self.eval(c, cond_values, scope) for c in conds):
                if depth + 1 < len(levels):
                    inner = self._payload(inner)
                    yield from self._walk(levels, elt, depth + 1, inner, scope,
                                          self._known(levels[depth + 1][1], scope, inner))
                else:
                    parts = [self.eval(t, inner, scope) for t in elt]
                    value = parts[0] if len(parts) == 1 else tuple(parts)
                    self._charge(value)  # `[table for i in range(n)]` repeats the table n times
                    yield value

    def _caller_walk(self, levels, elt, depth, values, scope, kept: list, items):
        """The elements of a comprehension the caller evaluates alone (see _AssertRewriter._caller_comp), level
        `depth` on, over `items`, that level's iterator. Nothing
        the sandbox reported bounds its items, so each costs work in proportion to the trees it evaluates
        (`[0 for i in range(10 ** 5) for j in range(10 ** 5)]` fails the test within ~500k items, not hours), and
        the elements it keeps count, nested ones too, against _MAX_LEN (`kept`, what is left of it)."""
        pattern, _, conds = levels[depth]
        inner = depth + 1 < len(levels)
        cost = _COMP_NODE_WORK * (1 + _tree_size(conds) + (0 if inner else _tree_size(elt)))
        for item in items:
            self.spend(cost)
            _bind(pattern, item, scope)
            # no generator or list built per item where none is needed: this loop may run ~500k times
            if not conds or all(self.eval(c, values, scope) for c in conds):
                if inner:
                    nxt = _apply(iter, self.eval(levels[depth + 1][1], values, scope))
                    yield from self._caller_walk(levels, elt, depth + 1, values, scope, kept, nxt)
                else:
                    if len(elt) == 1:
                        value = self.eval(elt[0], values, scope)
                    else:
                        value = tuple([self.eval(t, values, scope) for t in elt])
                    kept[0] -= _deep_len(value, kept[0])
                    if kept[0] < 0:
                        raise _TestFailed("comprehension too large")
                    yield value


# ---------------------------------------------------------------- pytest-style tests: collection

# Marks that change what pytest runs in ways the verifier does not reproduce: such a test gets a reason, not a
# silent failure. Other marks (`slow`, `timeout`, `filterwarnings`...) change nothing here and are dropped.
_UNSUPPORTED_MARKS = ("skipif", "xfail", "usefixtures")
_SETUP_NAMES = frozenset({"setup_module", "teardown_module", "setup_function", "teardown_function", "setup",
                          "teardown", "setup_method", "teardown_method", "setup_class", "teardown_class",
                          "__init__"})


def _pytest_mark(dec: ast.expr) -> str | None:
    """`parametrize` for `@pytest.mark.parametrize(...)`, `slow` for `@pytest.mark.slow`; None for other
    decorators."""
    f = dec.func if isinstance(dec, ast.Call) else dec
    if (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Attribute) and f.value.attr == "mark"
            and isinstance(f.value.value, ast.Name) and f.value.value.id == "pytest"):
        return f.attr
    return None


def _is_main_guard(node: ast.AST) -> bool:
    t = node.test if isinstance(node, ast.If) else None
    return (isinstance(t, ast.Compare) and isinstance(t.left, ast.Name) and t.left.id == "__name__"
            and len(t.ops) == 1 and isinstance(t.ops[0], ast.Eq)
            and _literal(t.comparators[0]) == (True, "__main__"))


def _used_names(modules: list[ast.Module]) -> set[str]:
    """Names the tests read themselves (`test()` at the end of a HumanEval-style file, `map(test_case, xs)`),
    outside an `if __name__ == "__main__":` block, which does not run (the tests run in the module `solution`).
    A function of the tests' that they use is theirs to call, not pytest's."""
    names: set[str] = set()
    todo: list[ast.AST] = list(modules)
    while todo:
        node = todo.pop()
        # `super(TestAdd, self).setUp()` in a unittest class names its own class, and runs no test
        if _is_main_guard(node) or isinstance(node, ast.Call) and _func_name(node.func) == "super":
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            names.add(node.id)
        todo.extend(ast.iter_child_nodes(node))
    return names


def _parametrize(dec: ast.expr, tables: dict,
                 bound: set[str] = frozenset()) -> tuple[list[str], list[dict], str | None] | str:
    """The argument names, the cases (name -> value expression) and the top-level table they were read from, if
    any, of a `@pytest.mark.parametrize`, or why not. Values stay expressions of the test's: literal ones are
    then decided by the caller like any other."""
    if not isinstance(dec, ast.Call) or any(isinstance(a, ast.Starred) for a in dec.args):
        return "unsupported parametrize"
    kw = {k.arg: k.value for k in dec.keywords}
    kw.pop("ids", None)  # names for the report only
    args = list(dec.args)
    names_node = args.pop(0) if args else kw.pop("argnames", None)
    values_node = args.pop(0) if args else kw.pop("argvalues", None)
    if args or kw or names_node is None or values_node is None:
        return "unsupported parametrize arguments"
    ok, names = _literal(names_node)
    if ok and type(names) is str:
        names = [n.strip() for n in names.split(",") if n.strip()]
    elif not (ok and isinstance(names, (list, tuple)) and all(type(n) is str for n in names)):
        return "unsupported parametrize names"
    table = None
    if isinstance(values_node, ast.Name) and values_node.id in tables:  # `CASES = [...]` at the top level
        table, values_node = values_node.id, tables[values_node.id]
    if isinstance(values_node, (ast.ListComp, ast.GeneratorExp)):  # `[(i, i * i) for i in range(5)]`
        values_node = _caller_list(values_node, bound)
    if (not isinstance(values_node, (ast.List, ast.Tuple))
            or any(isinstance(x, ast.Starred) for x in values_node.elts)):
        return "unsupported parametrize values (not a list written in the tests)"
    cases = []
    for el in values_node.elts:
        if isinstance(el, ast.Call) and _func_name(el.func) == "pytest.param":
            if any(k.arg != "id" for k in el.keywords):
                return "unsupported pytest.param arguments"
            values = el.args
        elif len(names) == 1:
            values = [el]
        elif isinstance(el, (ast.Tuple, ast.List)):
            values = el.elts
        else:
            return "unsupported parametrize case"
        if len(values) != len(names) or any(isinstance(v, ast.Starred) for v in values):
            return "parametrize case of the wrong length"
        cases.append(dict(zip(names, values)))
    return names, cases, table


def _caller_list(node: ast.expr, bound: set[str]) -> ast.expr:
    """A comprehension of the tests' own values (no name of the program's or theirs but the builtins the caller
    applies), built here and written as the list it gives; else `node` as it is."""
    rw = _AssertRewriter(0, set(bound))
    records: list = []
    try:
        tree = rw._expr(node, records)
        if records or rw.top or rw.unsupported or tree[0] != "caller_comp":
            return node
        items = list(itertools.islice(_Evaluator().eval(tree, []), _MAX_UNROLL_ITEMS + 1))
        return node if len(items) > _MAX_UNROLL_ITEMS else _value_ast(items)
    except (_TestFailed, ValueError, TypeError, RecursionError):
        return node


def _immutable(v) -> bool:
    if type(v) in (tuple, frozenset):
        return all(_immutable(x) for x in v)
    return v is None or type(v) in (bool, int, float, complex, str, bytes)


# where one read of a name may run many times
_REPEATING = (ast.For, ast.AsyncFor, ast.While, ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef,
              ast.ClassDef, ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp)


def _loads_once(body: list[ast.stmt], name: str) -> bool:
    """Whether `name` is read at most once when `body` runs: not twice, not in a loop, comprehension or nested
    function (where one read may run many times)."""
    count = 0
    todo = [(s, False) for s in body]
    while todo:
        node, repeated = todo.pop()
        if isinstance(node, ast.Name) and node.id == name:
            count += 2 if repeated else 1
        repeated = repeated or isinstance(node, _REPEATING)
        todo.extend((c, repeated) for c in ast.iter_child_nodes(node))
    return count <= 1


_CALLER_SIDE = (ast.BoolOp, ast.UnaryOp, ast.BinOp, ast.Subscript, ast.Tuple, ast.List, ast.Set, ast.Dict,
                ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp, ast.comprehension)


def _compared_only(body: list[ast.stmt], name, read=None) -> bool:
    """Whether each read of `name` in `body` is in an assert's message (dropped) or in its test under nothing
    but comparisons (not `is`), operators, displays, subscripts, comprehensions (not as what they iterate) and
    calls of builtins the caller applies (`assert f(x) == expected and len(expected) == 2`): the caller
    evaluates it, the object never reaches the program's code, so the value written in at each read is the
    same test, however many."""
    ok: set[int] = set()

    def visit(node: ast.AST) -> None:
        ok.add(id(node))
        if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):
            return
        if isinstance(node, ast.Call):
            if _func_name(node.func) not in _FUNCS or not all(k.arg and _literal(k.value)[0] for k in node.keywords):
                return
            children = node.args
        elif isinstance(node, ast.comprehension):
            children = node.ifs
        elif isinstance(node, (ast.Compare, *_CALLER_SIDE)):
            children = list(ast.iter_child_nodes(node))
        else:
            return
        for c in children:
            visit(c)

    for node in (n for s in body for n in ast.walk(s)):
        if isinstance(node, ast.Assert):
            if node.msg is not None:
                ok.update(id(n) for n in ast.walk(node.msg))
            visit(node.test)
    read = read or (lambda n: isinstance(n, ast.Name) and n.id == name)
    return all(id(n) in ok for s in body for n in ast.walk(s) if read(n))


# code that may run after the statement that creates it, reading a variable as it is then (a closure)
_LATER = (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef, ast.GeneratorExp)


class _Substitute(ast.NodeTransformer):
    """Reads of the names in `values` written as those values; of those in `live`, not in code that may run
    later (_LATER: `gs.append(lambda: x)` in a loop reads x after the loop moved on), except in an assert,
    whose test runs where it stands."""

    def __init__(self, values: dict, live: frozenset[str] = frozenset()):
        self.values, self.live = values, live
        self.later = False

    def visit_Name(self, node: ast.Name):
        if (isinstance(node.ctx, ast.Load) and node.id in self.values
                and not (self.later and node.id in self.live)):
            return ast.copy_location(copy.deepcopy(self.values[node.id]), node)
        return node

    def visit_Assert(self, node: ast.Assert):
        live = self.live
        if not self.later:
            self.live = frozenset()
        node = self.generic_visit(node)
        self.live = live
        return node

    def _later(self, node):
        later, self.later = self.later, True
        node = self.generic_visit(node)
        self.later = later
        return node

    visit_Lambda = visit_FunctionDef = visit_AsyncFunctionDef = visit_GeneratorExp = _later


def _late_reads(stmts: list[ast.stmt]) -> set[str]:
    """The names read in code of `stmts` that may run later (_LATER), outside their asserts."""
    found: set[str] = set()
    todo: list[ast.AST] = list(stmts)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Assert):
            continue
        if isinstance(node, _LATER):
            found |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        else:
            todo.extend(ast.iter_child_nodes(node))
    return found


def _bind_case(body: list[ast.stmt], case: dict, keep: frozenset[str] = frozenset(),
               live: frozenset[str] = frozenset(), also: frozenset[str] = frozenset()) -> list[ast.stmt]:
    """`body` of a test function with its parametrized arguments given `case`'s values. Written into the body
    where the argument is read (`assert add(a, b) == expected` becomes `assert add(1, 2) == 3`, whose 3 then
    stays in the caller) when that is the same as binding it: an immutable value, or one read once. Otherwise
    (a list the test mutates and reads again, an argument it rebinds, a name in `keep`) it is assigned at the
    top of the body, and the sandbox holds that value, as it holds any value a test binds to a name. A name
    in `live` (a loop's variable that a closure in the body reads, later: see _Substitute) is assigned too,
    and written in where it is read at once only when immutable (the closure's is the same object). A name
    in `keep` and `also` (a loop's variable read after the loop, or by the next loop, which binds it again
    first; declared global nowhere and read by no function of the tests, so no code but the body's reads or
    rebinds it meanwhile) is written in where immutable
    too, and assigned after the body when nothing in it reads it then and nothing leaves it early: as a
    read of the sandbox's variable, a second loop `for x, want in ...` gave the program each `want` of the
    first, and assigned before the body, the program read it there."""
    local = _bound_names([ast.Module(body=body, type_ignores=[])]) | (keep - also)
    local |= {n for node in ast.walk(ast.Module(body=body, type_ignores=[]))
              if isinstance(node, (ast.Global, ast.Nonlocal)) for n in node.names}
    subs, assigns = {}, []
    for name, value in case.items():
        ok, v = _literal(value)
        if name not in local and ((ok and _immutable(v)) or name not in live and name not in keep and (
                _loads_once(body, name) or _compared_only(body, name))):
            subs[name] = value
        if name not in subs or name in live or name in keep:
            assigns.append(ast.Assign(targets=[ast.Name(name, ast.Store())], value=copy.deepcopy(value)))
    body = [_Substitute(subs, live).visit(s) for s in body]
    late = [a for a in assigns if a.targets[0].id in also and a.targets[0].id in subs and a.targets[0].id not in live
            and not _reads(body, a.targets[0].id)]
    if late and not _exits(body, (ast.Break, ast.Continue, ast.Return)):
        return [a for a in assigns if a not in late] + body + late
    return assigns + body


def _bind_known(body: list[ast.stmt], bound: set[str], keep, live: frozenset[str] = frozenset()) -> list[ast.stmt]:
    """A written-out copy `body` (or a test function's) whose assignments at its top level of values the
    caller evaluates (`x, want = (1, 2)`, `case = {'in': 1, 'out': 2}`, as _bind_case gives them, or `want =
    case['out']` after one, `expected = [1, 2]`) are bound into the rest of it as the loop's variables are
    (_bind_case), so that an expected value the body unpacks stays in the caller too; a dict, list or tuple
    the rest reads only by items written in it (`case['out']`) is bound item by item (_by_item). A name read
    before its assignment (by a function defined there) or declared global, or one for which `keep(name)`
    holds (read after the copy), stays assigned."""
    declared = {x for n in (n for s in body for n in ast.walk(s)) if isinstance(n, (ast.Global, ast.Nonlocal))
                for x in n.names}
    out: list[ast.stmt] = []
    read_out: set[str] = set()  # the names `out` reads (kept as it grows: a chain of copies is long)

    def emit(stmts: list[ast.stmt]) -> None:
        out.extend(stmts)
        read_out.update(n.id for s in stmts for n in ast.walk(s) if isinstance(n, ast.Name)
                        and isinstance(n.ctx, ast.Load))

    rest = body
    recent: dict = {}  # values of the names assigned just before, which the sandbox holds (see _known_assign)
    while rest:
        env = _known_assign(rest[0], bound) or (_known_assign(rest[0], bound, recent) if recent else None)
        try:
            case = {k: _value_ast(v) for k, v in (env or {}).items()}
        except ValueError:
            case = {}
        if not case or any(x in read_out or x in declared for x in case):
            emit([rest[0]])
            rest = rest[1:]
            recent = {}
            continue
        rest = rest[1:]
        chain = _rebinding(rest, case, env) if not any(keep(x) or x in live for x in case) else None
        if chain is not None:  # bound up to the statement that gives it its next value (see _rebinding)
            j, value = chain
            head = _bind_case([*rest[:j], ast.Expr(value)], case, frozenset(), live)
            n = len(head) - j - 1
            again = ast.Assign(targets=[ast.Name(next(iter(case)), ast.Store())], value=head[-1].value)
            emit(head[:n])
            rest = [*head[n:-1], ast.fix_missing_locations(ast.copy_location(again, rest[j])), *rest[j + 1:]]
            recent = {}
            continue
        for name in list(case):
            items = None if keep(name) or name in live else _by_item(rest, name, env[name])
            if items is not None:
                rest, more = items
                del case[name]
                case.update(more)
        bound_rest = _bind_case(rest, case, frozenset(x for x in case if keep(x)), live)
        n = len(bound_rest) - len(rest)  # what _bind_case assigned at the top: the sandbox holds it
        emit(bound_rest[:n])
        # an expected value computed from them next (`expected = sorted(data)`) is the caller's too: in the
        # sandbox the program could read it from its caller's frame and return it
        recent = {k: v for k, v in recent.items() if k not in env} | {
            a.targets[0].id: env[a.targets[0].id] for a in bound_rest[:n] if a.targets[0].id in env}
        rest = bound_rest[n:]
    return out + rest


def _rebinding(rest: list[ast.stmt], case: dict, env: dict) -> tuple[int, ast.expr] | None:
    """Where the one name of `case`, just given a value the caller evaluates, is next given another by a
    statement at the top level of `rest` that reads it (`want = want + 2`, or `want += 2` of an immutable value:
    an expected value counted from one copy of a loop's body to the next): that statement's index and the
    value it assigns, written as an expression of the name. _bind_known binds the name into the statements up
    to there and into that value, which the caller then evaluates as the next assignment: `want = 0` /
    `want += 2` / `assert f(1) == want` is `assert f(1) == 2`, where the sandbox held `want` (a program read
    it from the test's frame). None when the name is bound anywhere else in `rest` first, or read up to there
    by code that may run later (a closure would read a later value)."""
    if len(case) != 1:
        return None
    name = next(iter(case))
    for j, stmt in enumerate(rest):
        binds = _bound_names([ast.Module(body=[stmt], type_ignores=[])])
        if name not in binds:
            continue
        if name in _late_reads(rest[:j + 1]):  # (one after is bound, or not, by a later step)
            return None
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                and stmt.targets[0].id == name and name not in _bound_names(
                    [ast.Module(body=[ast.Expr(stmt.value)], type_ignores=[])])):
            return j, copy.deepcopy(stmt.value)
        if (isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id == name
                and _immutable(env[name]) and name not in _bound_names(
                    [ast.Module(body=[ast.Expr(stmt.value)], type_ignores=[])])):
            return j, ast.BinOp(ast.Name(name, ast.Load()), copy.deepcopy(stmt.op), copy.deepcopy(stmt.value))
        return None
    return None


def _bind_module_names(bodies: list, bound: set[str]) -> None:
    """Each name the tests bind once, at the top level, to a value the caller evaluates (`expected = 6`, `N =
    3`), read by no statement before that one, written into every statement that reads it, in place, and its
    assignment dropped, as _bind_known does in a function: an immutable value, or one read once at the top
    level. `bodies`: the modules' statements, as _collect_tests holds them."""
    stmts = [s for groups in bodies for group in groups for s in group]
    binds = _binding_counts(stmts)
    subs: dict[str, ast.expr] = {}
    dropped: set[int] = set()
    recent: dict = {}  # values of the names the statement before kept assigned (see _known_assign)
    for k, stmt in enumerate(stmts):
        known, recent = recent, {}
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            # `x, want = 2, 4`: each name as it would be alone, the statement dropped only if all of them are
            # written in (kept, it binds them all in the sandbox)
            t = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else None
            if not (isinstance(t, ast.Tuple) and t.elts and all(isinstance(e, ast.Name) for e in t.elts)):
                continue
            names = [e.id for e in t.elts]
            env = _known_assign(stmt, bound)
            if env is None or len(set(names)) != len(names) or any(
                    n.startswith("__") or binds.get(n) != 1 or _reads(stmts[:k], n) for n in names):
                continue
            try:
                values = {n: _value_ast(env[n]) for n in names}
            except ValueError:
                continue
            if all(_immutable(env[n]) or _loads_once(stmts[k + 1:], n) or _compared_only(stmts[k + 1:], n)
                   for n in names):
                subs.update(values)
                dropped.add(id(stmt))
            continue
        name = stmt.targets[0].id
        env = _known_assign(stmt, bound) or (_known_assign(stmt, bound, known) if known else None)
        if env is None or name.startswith("__") or binds.get(name) != 1 or _reads(stmts[:k], name):
            continue
        try:
            value = _value_ast(env[name])
        except ValueError:
            continue
        if _immutable(env[name]) or _loads_once(stmts[k + 1:], name) or _compared_only(stmts[k + 1:], name):
            subs[name] = value
            dropped.add(id(stmt))
            recent = {k: v for k, v in known.items() if k != name}  # (dropped: nothing runs there)
        else:  # kept, the sandbox's: an expected value computed from it next is still the caller's
            recent = {**known, name: env[name]}
    if not subs:
        return
    for groups in bodies:
        for si, group in enumerate(groups):
            groups[si] = [_Substitute(subs).visit(s) for s in group if id(s) not in dropped]


def _known_assign(stmt: ast.stmt, bound: set[str], recent: dict | None = None) -> dict | None:
    """The names `stmt` binds and their values, when it is an assignment (to names, or a tuple of them) of a
    value the caller evaluates; else None. `recent`: names the sandbox holds, with the values they were just
    given by the tests, no code having run since (`data = [3, 1, 2]`, read again, then `expected =
    sorted(data)`), which the value may read unless it would share one of their mutable parts (`alias = data`:
    the sandbox's object, which the program may change in place)."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
        return None
    pattern = _target_pattern(stmt.targets[0])
    tree = _caller_tree(stmt.value, bound, frozenset(recent or ())) if pattern is not None else None
    if tree is None:
        return None
    env: dict = {}
    evaluator = _Evaluator()
    evaluator.left = _MAX_KNOWN  # `data = list(range(10 ** 6))` (a large input) stays the sandbox's to build
    try:
        value = evaluator.eval(tree, [], dict(recent or {}))
        if _deep_len(value, _MAX_KNOWN) > _MAX_KNOWN:
            return None
        if recent and _mutable_ids(value) & _mutable_ids(list(recent.values())):
            return None
        _bind(pattern, value, env)
    except Exception:  # anything the caller cannot evaluate stays the sandbox's assignment
        return None
    return env


def _mutable_ids(v, out: set | None = None) -> set[int]:
    """The ids of the mutable containers in the plain value `v`, at any depth."""
    out = set() if out is None else out
    if isinstance(v, (list, dict, set)):
        if id(v) in out:
            return out
        out.add(id(v))
    if isinstance(v, (list, tuple, set, frozenset)):
        for x in v:
            _mutable_ids(x, out)
    elif isinstance(v, dict):
        for x in v.values():
            _mutable_ids(x, out)
    return out


def _by_item(body: list[ast.stmt], name: str, value) -> tuple[list[ast.stmt], dict] | None:
    """`body` with each `<name>[<constant>]` read in it replaced by a name of its own for that item, and those
    names with the items' values, when `name` is a dict, list or tuple that `body` reads only so and never
    binds; else None."""
    if type(value) not in (dict, list, tuple) or name in _bound_names([ast.Module(body=body, type_ignores=[])]):
        return None
    reads = [n for s in body for n in ast.walk(s) if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Load)
             and isinstance(n.value, ast.Name) and n.value.id == name and isinstance(n.slice, ast.Constant)]
    if not reads or len(reads) != _reads(body, name):
        return None
    keys: list = []
    for n in reads:
        if n.slice.value not in keys:
            keys.append(n.slice.value)
    try:
        items = {f"__ponder_{name}_{k}__": _value_ast(value[key]) for k, key in enumerate(keys)}
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    mine = {id(n): f"__ponder_{name}_{keys.index(n.slice.value)}__" for n in reads}

    class _Items(ast.NodeTransformer):
        def visit_Subscript(self, node: ast.Subscript):
            if id(node) in mine:
                return ast.copy_location(ast.Name(mine[id(node)], ast.Load()), node)
            return self.generic_visit(node)

    return [_Items().visit(s) for s in body], items


_MAX_KNOWN = 10_000  # work and elements of a value a test assigns that the caller binds into the code after it
_MAX_UNROLL_ITEMS = 1000  # items of a test's `for` loop the caller writes out, one copy of the body each
_MAX_UNROLL_NODES = 100_000  # syntax nodes those copies may add up to
# where an assert runs only sometimes (a copy of the loop body per item would leave it unreported, failing)
_CONDITIONAL = (ast.If, ast.While, ast.For, ast.AsyncFor, ast.Match, ast.ExceptHandler, ast.FunctionDef,
                ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_LEAVES_LOOP = (ast.Yield, ast.YieldFrom, ast.Await, ast.Global, ast.Nonlocal)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)


def _exits(stmts: list[ast.stmt], kinds: tuple) -> list[ast.stmt]:
    """The statements of `kinds` (`break`/`continue`, or `return`) in `stmts` that leave the loop or function
    `stmts` are the body of: not those in an inner function or class, nor a `break`/`continue` in an inner
    loop's body (one in its `else:` is the outer loop's)."""
    found: list[ast.stmt] = []
    todo: list[tuple[ast.AST, bool]] = [(s, False) for s in stmts]  # (node, in an inner loop's body)
    while todo:
        node, inner = todo.pop()
        if isinstance(node, kinds) and not (inner and isinstance(node, (ast.Break, ast.Continue))):
            found.append(node)
        elif isinstance(node, _LOOPS):
            todo.extend((c, True) for c in node.body)
            todo.extend((c, inner) for c in node.orelse)
        elif not isinstance(node, _SCOPES):
            todo.extend((c, inner) for c in ast.iter_child_nodes(node))
    return found


def _until_exit(body: list[ast.stmt], kinds: tuple) -> tuple[list[ast.stmt], ast.stmt | None] | None:
    """`body` cut before its first statement of `kinds` at its top level (nothing after it runs), and that
    statement (None if there is none); None when a statement of `kinds` that leaves it (see _exits) is
    elsewhere in it, under an `if` or a `try` where it may or may not run."""
    for k, stmt in enumerate(body):
        if isinstance(stmt, kinds):
            return body[:k], stmt
        if _exits([stmt], kinds):
            return None
    return body, None


def _checks(body: list[ast.stmt], helpers: dict) -> str:
    """"always" when `body` holds a check (an assert, a try/with that may be an exception test, a call of a
    helper function of the tests that _inline_calls may write out) and every one of them runs whenever the body
    runs to its end (none under an `if`, a loop, a handler or a try's `else:`); "none" when it holds no check;
    else "sometimes"."""
    found = False
    todo = [(s, False) for s in body]
    while todo:
        node, cond = todo.pop()
        if isinstance(node, (ast.Assert, ast.Try, ast.With)) or (
                isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
                and _func_name(node.value.func) in helpers):
            if cond:
                return "sometimes"
            found = True
        if isinstance(node, ast.Try):
            todo.extend((c, cond) for c in [*node.body, *node.finalbody])
            todo.extend((c, True) for c in [*node.handlers, *node.orelse])
            continue
        todo.extend((c, cond or isinstance(node, _CONDITIONAL)) for c in ast.iter_child_nodes(node))
    return "always" if found else "none"


def _caller_tree(e: ast.expr, bound: set[str], known: frozenset[str] = frozenset()):
    """The caller's tree for `e` (see _AssertRewriter._expr) when it holds no value of the program's and
    nothing the caller refuses, else None. Names in `known` are read as variables the caller gives values."""
    rw = _AssertRewriter(0, bound)
    rw.loop_vars = known
    records: list = []
    rw.top = records
    tree = rw._expr(e, records)
    return None if records or rw.unsupported else tree


def _fold_ifs(body: list[ast.stmt], bound: set[str]) -> list[ast.stmt]:
    """`body` with each `if` (at its top, or in the branches of one) whose test holds no value of the
    program's replaced by the branch it takes, as the caller evaluates that test: in a written-out loop,
    `if x >= 0: assert f(x) == 2 * x` is the assert for some items and nothing for the others."""
    out: list[ast.stmt] = []
    for stmt in body:
        if not isinstance(stmt, ast.If):
            out.append(stmt)
            continue
        try:
            tree = _caller_tree(stmt.test, bound)
            taken = None if tree is None else bool(_Evaluator().eval(tree, [], {}))
        except Exception:  # anything the caller cannot decide stays the sandbox's `if`
            taken = None
        if taken is None:
            stmt.body = _fold_ifs(stmt.body, bound)
            stmt.orelse = _fold_ifs(stmt.orelse, bound)
            out.append(stmt)
        else:
            out.extend(_fold_ifs(stmt.body if taken else stmt.orelse, bound))
    return out


def _loop_items(it: ast.expr, tables: dict, clean: set[str], bound: set[str]) -> tuple[list, list] | None:
    """The items of a `for` loop's iterable that the caller knows, and the top-level tables they come from:
    what the caller knows the items of in a comprehension (literals, `range(...)`, `enumerate`/`zip` of
    those), a dict literal's `.items()`/`.keys()`/`.values()`, where a table of literals the tests read only
    in loops' iterables and as parametrize's table (`for x, want in CASES:`) stands for its value; None for
    anything else, or for more than _MAX_UNROLL_ITEMS items."""
    names = [n for n in ast.walk(it) if isinstance(n, ast.Name) and n.id in clean]
    it = _Substitute({n.id: tables[n.id] for n in names}).visit(copy.deepcopy(it))
    if (isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute)
            and isinstance(it.func.value, ast.Dict) and it.func.attr in ("items", "keys", "values")
            and not it.args and not it.keywords):
        ok, value = _literal(it.func.value)
        if not ok:
            return None
        items = list(getattr(value, it.func.attr)())
    else:
        try:
            tree = _caller_tree(it, bound)
            if tree is None or not _ordered(tree):
                return None
            items = _Evaluator().items(tree, {}, _MAX_UNROLL_ITEMS + 1)
        except (_TestFailed, ValueError, TypeError, RecursionError):
            return None
    return (items, [n.id for n in names]) if len(items) <= _MAX_UNROLL_ITEMS else None


def _outer_loads(nodes: list[ast.AST]) -> list[tuple[ast.Name, bool]]:
    """The names `nodes` load that may be a variable of their own scope, each with whether a function (or
    lambda, or class) of them loads it: not one a function loads as a parameter of its own or of a function
    around it (`def check(out, want)` reads its own `want`; counted as a read of the loop's `for x, want in
    CASES: check(f(x), want)`, that loop assigned `want` where the program read it from its caller's frame)."""
    found: list[tuple[ast.Name, bool]] = []
    todo: list[tuple[ast.AST, frozenset, bool]] = [(n, frozenset(), False) for n in nodes]
    while todo:
        node, own, in_function = todo.pop()
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in own:
            found.append((node, in_function))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            outer = [*a.defaults, *(d for d in a.kw_defaults if d is not None), *getattr(node, "decorator_list", ()),
                     *(x.annotation for x in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg)
                       if x is not None and x.annotation is not None), *([node.returns] if getattr(node, "returns", None) else [])]
            params = own | {x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg) if x is not None}
            todo.extend((n, own, in_function) for n in outer)  # (evaluated where the function is defined)
            todo.extend((n, params, True) for n in (node.body if isinstance(node.body, list) else [node.body]))
            continue
        todo.extend((n, own, in_function or isinstance(node, ast.ClassDef)) for n in ast.iter_child_nodes(node))
    return found


def _unroll(loop: ast.For, scope: list[ast.AST], tables: dict, clean: set[str], used: dict,
            bound: set[str], helpers: dict) -> list[ast.stmt] | None:
    """A test's `for` loop over items the caller knows, written out as one copy of its body per item, each
    with the loop variables given that item's values as a parametrized case is (_bind_case): `for x, want in
    [(1, 2), (3, 6)]: assert double(x) == want` becomes `assert double(1) == 2` and `assert double(3) == 6`.
    Each copy's asserts are tests of their own, each to be reported, so a program cannot end the run after
    the iterations it has seen and pass the ones it skipped, and the expected values stay in the caller. A
    loop variable read elsewhere in `scope` (after the loop, by a helper function) is assigned at the top of
    each copy instead. A `break`, `continue` or `return` that an `if` on the item's values leads to
    (_fold_ifs) ends its copy there, a `break` the loop, whose `else:` then does not run, and a `return`,
    kept, the function. None when the loop cannot be written out so: a body that may leave the loop
    otherwise (a `break` or `return` under an `if` on a value of the program's, a `yield`), has no check or
    one that runs only sometimes, or too many items."""
    pattern = _target_pattern(loop.target)
    if pattern is None or _checks(loop.body, helpers) == "none" or any(
            isinstance(n, _LEAVES_LOOP) for s in loop.body for n in ast.walk(s)):
        return None
    got = _loop_items(loop.iter, tables, clean, bound)
    if got is None:
        return None
    items, from_tables = got
    size = sum(1 for s in loop.body for _ in ast.walk(s))
    if size * len(items) > _MAX_UNROLL_NODES:
        return None
    names = {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)}
    # (the loop's `else:` runs after it, as code after the loop does: the variables as the last copy left them)
    inside = [n for n, _ in _outer_loads([loop.target, loop.iter, *loop.body])]
    reads = [n for n, _ in _outer_loads(scope)]
    declared = {x for s in scope for n in ast.walk(s) if isinstance(n, (ast.Global, ast.Nonlocal))
                for x in n.names}
    def read_elsewhere(x: str) -> bool:  # outside the loop, or declared global: the copies must assign it
        return x in declared or sum(n.id == x for n in reads) > sum(n.id == x for n in inside)
    keep = frozenset(x for x in names if read_elsewhere(x))
    # assigned, and written in where immutable: read after the loop, not by a function that the body may call
    in_functions = {n.id for n, in_function in _outer_loads(scope) if in_function}
    also = frozenset(x for x in keep if x not in declared and x not in in_functions)
    late = frozenset(_late_reads(loop.body))  # one variable for every copy, as for every iteration in Python
    read = clean & {n.id for s in loop.body for n in ast.walk(s) if isinstance(n, ast.Name)}
    values = _table_values(tables, read)
    out: list[ast.stmt] = []
    broke = False
    try:
        for item in items:
            env: dict = {}
            _bind(pattern, item, env)
            body = _bind_case(copy.deepcopy(loop.body), {k: _value_ast(v) for k, v in env.items()}, keep, late,
                              also)
            body = _table_items(body, values, bound)
            body = _bind_known(body, bound, lambda x: x in keep or read_elsewhere(x), late)
            cut = _until_exit(_fold_ifs(body, bound), (ast.Break, ast.Continue, ast.Return))
            # under an `if` on a value of the program's, a check, a `break` or a `return`: as written
            if cut is None or _checks(cut[0], helpers) == "sometimes":
                return None
            out.extend(cut[0])
            if isinstance(cut[1], ast.Return):
                out.append(cut[1])  # ends the function the loop is in: neither the loop's `else:` nor the rest
            broke = isinstance(cut[1], (ast.Break, ast.Return))
            if broke:
                break
    except (_TestFailed, ValueError, RecursionError):
        return None
    for table in from_tables:
        used[table] = used.get(table, 0) + 1
    for table in read:  # a table read by item in the body, each read of it written out as its item
        if not _reads(out, table):
            used[table] = used.get(table, 0) + _reads(loop.body, table)
    return [ast.copy_location(s, loop) for s in out] + ([] if broke else loop.orelse)


def _inlinable(fn: ast.FunctionDef) -> bool:
    """Whether _inline_calls may write out a call of this function of the tests: plain parameters, a check in
    its body, and no `yield` (a generator's body would not run at the call)."""
    a = fn.args
    inner = [n for s in fn.body for n in ast.walk(s)]
    return (not (a.posonlyargs or a.vararg or a.kwonlyargs or a.kwarg)
            and all(_literal(d)[0] for d in a.defaults) and _checks(fn.body, {}) != "none"
            and not any(isinstance(n, (ast.Yield, ast.YieldFrom, ast.Await)) for n in inner))


def _same_checks(fn: ast.FunctionDef) -> bool:
    """Whether every call of `fn` runs all the checks in its body: none under an `if`, no `return` before
    its end."""
    return _checks(fn.body, {}) == "always" and not any(
        isinstance(n, ast.Return) and n is not fn.body[-1] for s in fn.body for n in ast.walk(s))


def _call_body(fn: ast.FunctionDef, case: dict, bound: set[str]) -> list[ast.stmt] | None:
    """The body of the copy of `fn` written out for a call with the values `case` (see _inline_calls): its
    parameters given those values (_bind_case, and what it unpacks from them first: _bind_known), each `if`
    on them decided here (_fold_ifs), and cut after a `return` one leads to; None when a check in it runs
    only sometimes (under an `if` on a value of the program's, after a `return` that may or may not run)."""
    body = _bind_known(_bind_case(copy.deepcopy(fn.body), case), bound, lambda x: False)
    # a loop over a table the call passes (`check([(1, 2), (3, 6)])`, `for x, want in cases:`) written out as a
    # test's own is (_unroll_function): left a loop, its checks ran only sometimes, so the call ran as written,
    # the sandbox holding the table (a program read `want` from its caller's frame)
    shell = copy.copy(fn)  # (no parameters: they are bound in its body now)
    shell.body, shell.args = body, ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[],
                                                 kw_defaults=[], kwarg=None, defaults=[])
    _unroll_function(shell, {}, set(), {}, bound, {})
    body = shell.body
    cut = _until_exit(_fold_ifs(body, bound), (ast.Return,))
    if cut is None or _checks(cut[0], {}) == "sometimes":
        return None
    return cut[0] + [cut[1]] if cut[1] is not None else cut[0]


def _call_copies(stmts: list[ast.stmt], helpers: dict, bound: set[str]) -> dict[int, list[ast.stmt]]:
    """For each statement `check(3, 6)` in `stmts` (not in a helper's own body) that calls a helper of the
    tests with values written in them (_call_case): the body of the copy of the helper written out for it
    (_call_body), by the statement's id. A helper whose checks differ by call (an `if` or early `return`
    decided in each) is written out only where every use of its name is such a call: a call left as written
    would report its asserts, that each copy leaves to the others, once per call, or not at all."""
    mine = {id(fn) for fn in helpers.values()}
    uses = {name: 0 for name in helpers}
    for n in (n for s in stmts for n in ast.walk(s)):
        if isinstance(n, ast.Name) and n.id in uses:
            uses[n.id] += 1
    copies: dict[int, list[ast.stmt]] = {}
    made: dict[str, list[int]] = {name: [] for name in helpers}
    todo: list[ast.AST] = list(stmts)
    while todo:
        node = todo.pop()
        if id(node) in mine:
            continue
        todo.extend(ast.iter_child_nodes(node))
        call = node.value if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) else None
        fn = helpers.get(call.func.id) if call is not None and isinstance(call.func, ast.Name) else None
        case = _call_case(fn, call, bound) if fn is not None else None
        body = _call_body(fn, case, bound) if case is not None else None
        if body is not None:
            copies[id(node)] = body
            made[fn.name].append(id(node))
    for name, fn in helpers.items():
        if not _same_checks(fn) and len(made[name]) != uses[name]:
            for k in made[name]:
                del copies[k]
    return copies


def _rewrite_blocks(stmt: ast.stmt, rewrite, *args) -> None:
    """Each block of statements directly in `stmt` (its bodies, its handlers' and match cases') replaced by
    `rewrite(block, *args)`, in place; a block that comes back empty becomes `pass`."""
    for field, value in ast.iter_fields(stmt):
        if isinstance(value, list) and value and all(isinstance(x, ast.stmt) for x in value):
            setattr(stmt, field, rewrite(value, *args) or [ast.Pass()])
        elif isinstance(value, list):
            for x in value:
                if isinstance(x, (ast.ExceptHandler, ast.match_case)):
                    x.body = rewrite(x.body, *args) or [ast.Pass()]


def _inline_calls(body: list[ast.stmt], helpers: dict, copies: dict, sites: dict) -> list[ast.stmt]:
    """`body` with each statement `check(3, 6)` that calls a helper of the tests with values written in them
    replaced by a call of a copy of the helper made for that call (`copies`, see _call_copies), its
    parameters given those values as a parametrized case is: `def check(x, want): assert double(x) == want`
    called three times is three asserts that must each be reported, `want` kept in the caller, where as
    written it was one assert the sandbox reported per call (a program could end the run after the first call
    and pass the others unrun). The copies are collected in `sites` (helper name -> its copies), to be
    defined where the helper is, so they read the same globals."""
    out: list[ast.stmt] = []
    for stmt in body:
        if stmt in helpers.values():
            out.append(stmt)  # a helper's own body (a call of another in it) runs as written
            continue
        _rewrite_blocks(stmt, _inline_calls, helpers, copies, sites)
        if id(stmt) not in copies:
            out.append(stmt)
            continue
        fn = helpers[stmt.value.func.id]
        name = f"__ponder_{fn.name}_{sum(len(v) for v in sites.values()) + 1}__"
        made = copy.copy(fn)  # a plain function of no parameters, with the case bound in its body
        made.name, made.decorator_list = name, []
        made.args = ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                                  kwarg=None, defaults=[])
        made.body = copies[id(stmt)] or [ast.Pass()]
        sites.setdefault(fn.name, []).append(ast.fix_missing_locations(ast.copy_location(made, fn)))
        out.append(ast.copy_location(ast.Expr(_call(name)), stmt))
    return out


def _global_name(e: ast.expr, bound: set[str]) -> bool:
    """Whether `e` is a name the tests never bind and no builtin's: a function of the program's (`check(add)`),
    which a copy of a helper where the helper is defined reads as the same global. A builtin's name is left
    out: in an assert the caller reads it as the real builtin, where `check(max)` means the program's."""
    return isinstance(e, ast.Name) and e.id not in bound and not hasattr(builtins, e.id)


def _method_helpers(cls: ast.ClassDef) -> dict[str, tuple[ast.FunctionDef, ast.FunctionDef]]:
    """The methods of a test class that _inline_methods may write out at their calls (no test or hook, a
    first parameter for the instance, _inlinable in the others), by name: each with itself less that first
    parameter, the function _call_body takes."""
    defs = [m for m in cls.body if isinstance(m, ast.FunctionDef)]
    views = {}
    for m in defs:
        a = m.args
        if (m.name.startswith(("test", "__")) or m.name in (*_UT_HOOKS, *_UT_CLASS_HOOKS, *_SETUP_NAMES)
                or m.decorator_list or not a.args or a.posonlyargs or len(a.defaults) >= len(a.args)
                or sum(d.name == m.name for d in defs) != 1):
            continue
        view = copy.copy(m)
        view.args = copy.copy(a)
        view.args.args = a.args[1:]
        if _inlinable(view):
            views[m.name] = (m, view)
    return views


def _inline_methods(cls: ast.ClassDef, bound: set[str], attrs: dict[str, int]) -> None:
    """A test class's helper methods written out at their calls, in place, as _inline_calls writes out a
    helper function's: `self.check(3, 6)` in a method of the class, `check` a method of it that is no test
    or hook (`def check(self, x, want): self.assertEqual(f(x), want)`), becomes a call of a method made for
    that call, `self` kept, the other parameters given those values (_call_body). A helper whose checks
    differ by call is written out only where every use of its name is such a call (see _call_copies); one
    no longer used otherwise is dropped, as its asserts would go unreported. `attrs`: how many times the
    tests read or set each attribute name (`x.check`), in any class or object."""
    defs = [m for m in cls.body if isinstance(m, ast.FunctionDef)]
    views = _method_helpers(cls)
    uses = {name: attrs.get(name, 0) for name in views}
    made: dict[str, list] = {name: [] for name in views}  # helper name -> [(call statement, copy's body)]
    for m in defs:
        if m.name in views or not m.args.args:
            continue
        me = m.args.args[0].arg
        for stmt in (n for s in m.body for n in ast.walk(s) if isinstance(n, ast.Expr)):
            call = stmt.value
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in views
                    and isinstance(call.func.value, ast.Name) and call.func.value.id == me):
                continue
            view = views[call.func.attr][1]
            case = _call_case(view, call, bound)
            body = _call_body(view, case, bound) if case is not None else None
            if body is not None:
                made[view.name].append((stmt, me, body))
    found: dict[int, list[ast.stmt]] = {}
    for name, (m, view) in views.items():
        if not made[name] or (not _same_checks(view) and len(made[name]) != uses[name]):
            continue
        copies = []
        for stmt, me, body in made[name]:
            new = copy.copy(m)
            new.name, new.body = f"__ponder_{name}_{len(found) + 1}__", body or [ast.Pass()]
            new.args = ast.arguments(posonlyargs=[], args=[copy.deepcopy(m.args.args[0])], vararg=None,
                                     kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
            copies.append(ast.fix_missing_locations(ast.copy_location(new, m)))
            call = ast.Call(func=ast.Attribute(ast.Name(me, ast.Load()), new.name, ast.Load()), args=[], keywords=[])
            found[id(stmt)] = [ast.copy_location(ast.Expr(call), stmt)]
        found[id(m)] = ([m] if len(made[name]) < uses[name] else []) + copies
    for m in defs:
        _rewrite_blocks(m, _replace, found)
    cls.body = _replace(cls.body, found) or [ast.Pass()]


def _call_case(fn: ast.FunctionDef, call: ast.Call, bound: set[str]) -> dict | None:
    """The parameters of `fn` bound to the arguments of `call` (each a literal, a parameter left out its
    literal default, or a _global_name), or None when any is something else or the call does not fit the
    signature."""
    params = [p.arg for p in fn.args.args]
    if len(call.args) > len(params) or any(isinstance(x, ast.Starred) for x in call.args):
        return None
    case = dict(zip(params, call.args))
    for k in call.keywords:
        if k.arg is None or k.arg not in params or k.arg in case:
            return None
        case[k.arg] = k.value
    case = {**dict(zip(params[len(params) - len(fn.args.defaults):], fn.args.defaults)), **case}
    if set(case) != set(params) or not all(_literal(v)[0] or _global_name(v, bound) for v in case.values()):
        return None
    return {k: copy.deepcopy(v) for k, v in case.items()}


def _unroll_loops(body: list[ast.stmt], scope: list[ast.AST], tables: dict, clean: set[str], used: dict,
                  bound: set[str], helpers: dict) -> list[ast.stmt]:
    """`body` with every `for` loop _unroll can write out written out, inner loops first; `scope` is what the
    statements of the function (or module) they belong to are."""
    out: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            _unroll_function(stmt, tables, clean, used, bound, helpers)
        elif isinstance(stmt, ast.ClassDef):  # `self.check(x, want)` is a check in its methods' loops too
            methods = {f"self.{name}": view for name, (_, view) in _method_helpers(stmt).items()}
            _rewrite_blocks(stmt, _unroll_loops, stmt.body, tables, clean, used, bound, {**helpers, **methods})
        else:
            _rewrite_blocks(stmt, _unroll_loops, scope, tables, clean, used, bound, helpers)
        written = None
        if isinstance(stmt, ast.For):
            written = _unroll(stmt, scope, tables, clean, used, bound, helpers)
        out.extend([stmt] if written is None else written)
    return out


def _unroll_function(fn: ast.FunctionDef | ast.AsyncFunctionDef, tables: dict, clean: set[str], used: dict,
                     bound: set[str], helpers: dict) -> None:
    """`fn`'s loops written out (_unroll_loops), in place, where a table of its own (_local_tables) stands for
    its value as a top-level one does: `cases = [(1, 2), (3, 6)]` then `for x, want in cases:`. A local table
    every read of which was written out is dropped, so that the sandbox never holds its expected values."""
    local = _local_tables(fn)
    counts: dict[str, int] = {}
    values = {**tables, **{name: assign.value for name, (assign, _) in local.items()}}
    _rewrite_blocks(fn, _unroll_loops, fn.body, values, clean | set(local), counts, bound, helpers)
    if any(isinstance(s, ast.AugAssign) and isinstance(s.target, ast.Name) or isinstance(s, ast.Assign) and len(
            s.targets) == 1 and isinstance(s.targets[0], ast.Name) and _reads([s.value], s.targets[0].id)
           for s in fn.body):
        # an expected value counted from one written-out copy to the next (`want += 2`), now at the top level:
        # the caller's too (see _rebinding)
        fn.body = _bind_known(fn.body, bound, lambda x: False)
    for name, n in counts.items():
        if name not in local:
            used[name] = used.get(name, 0) + n  # a table of the module's, or of a function around this one
        elif n == local[name][1]:
            fn.body = [s for s in fn.body if s is not local[name][0]] or [ast.Pass()]


def _local_tables(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, tuple[ast.Assign, int]]:
    """The tables of test data a function of the tests binds itself, by name: `cases = [...]` (a list, tuple
    or dict) at the top level of its body, the one binding of that name in it (nested functions, parameters
    and `global` included), and read only after it, only in `for` loops' iterables, as a top-level table is
    (see _loop_items); each with its assignment and how many reads it has."""
    binds = _binding_counts([fn])
    found = {}
    for k, stmt in enumerate(fn.body):
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                and isinstance(stmt.value, (ast.List, ast.Tuple, ast.Dict)) and binds[stmt.targets[0].id] == 1):
            continue
        name = stmt.targets[0].id
        after = fn.body[k + 1:]
        if _reads(fn.body[:k + 1], name) == 0 and _reads(after, name) == _loop_reads(after).get(name, 0) > 0:
            found[name] = (stmt, _reads(after, name))
    return found


def _loop_reads(nodes: list[ast.AST]) -> dict[str, int]:
    """How many times the trees `nodes` read each name in a `for` loop's iterable, or by item in a loop's
    body (`T[i]`, not to change it: `T[i].append(x)`, `T[i][0] = x`): where a table of test data stands
    for its value (see _loop_items, _table_items)."""
    found: dict[int, str] = {}  # id of the Name read -> its name
    for loop in (n for x in nodes for n in ast.walk(x) if isinstance(n, ast.For)):
        for n in ast.walk(loop.iter):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                found[id(n)] = n.id
        inner = [n for s in loop.body for n in ast.walk(s)]
        changed = {id(n.value) for n in inner if isinstance(n, ast.Attribute)
                   or isinstance(n, ast.Subscript) and not isinstance(n.ctx, ast.Load)}
        for n in inner:
            if (isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Load) and isinstance(n.value, ast.Name)
                    and id(n) not in changed):
                found[id(n.value)] = n.value.id
    counts: dict[str, int] = {}
    for name in found.values():
        counts[name] = counts.get(name, 0) + 1
    return counts


def _table_values(tables: dict, names: set[str]) -> dict:
    """The values of the tables `names` that are literals, by name."""
    found = {}
    for name in names:
        ok, v = _literal(tables[name])
        if ok:
            found[name] = v
    return found


def _table_items(body: list[ast.stmt], values: dict, bound: set[str]) -> list[ast.stmt]:
    """A written-out copy `body` with each `T[<index the caller evaluates>]` read of a table in `values` (its
    value, by name; a table read so only where it stands for its value: see _loop_reads) replaced by that
    item, where that is the same as reading it: an immutable item, or one the copy reads once (not in a loop
    or nested function); `expected[0]` is then an expected value the caller keeps."""
    reads: list[tuple[ast.Subscript, str, object, bool]] = []
    todo = [(s, False) for s in body]
    while todo:
        node, repeated = todo.pop()
        if (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and isinstance(node.value, ast.Name)
                and node.value.id in values):
            try:
                tree = _caller_tree(node.slice, bound)
                item = values[node.value.id][_Evaluator().eval(tree, [], {})] if tree is not None else None
            except Exception:  # an index the caller cannot evaluate, or no such item: the sandbox reads it
                tree = None
            if tree is not None:
                reads.append((node, node.value.id, item, repeated))
                continue
        repeated = repeated or isinstance(node, _REPEATING)
        todo.extend((c, repeated) for c in ast.iter_child_nodes(node))
    subs: dict[int, ast.expr] = {}
    for node, name, item, repeated in reads:
        same = sum(n == name and ast.dump(m.slice) == ast.dump(node.slice) for m, n, _, _ in reads)
        if _immutable(item) or (same == 1 and not repeated):
            try:
                subs[id(node)] = _value_ast(item)
            except ValueError:
                continue

    class _Items(ast.NodeTransformer):
        def visit_Subscript(self, node: ast.Subscript):
            if id(node) in subs:
                return ast.copy_location(subs[id(node)], node)
            return self.generic_visit(node)

    return [_Items().visit(s) for s in body]




def _binding_counts(nodes: list[ast.AST]) -> dict[str, int]:
    """How many times the trees `nodes` bind each name: assignments (`del` too), parameters, `global` and
    `nonlocal`, imports, definitions, handlers' and patterns' names."""
    binds: dict[str, int] = {}
    for node in (n for x in nodes for n in ast.walk(x)):
        names: list[str] = []
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names = [node.id]
        elif isinstance(node, ast.arg):
            names = [node.arg]
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names = node.names
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [(a.asname or a.name).split(".")[0] for a in node.names]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.ExceptHandler,
                               ast.MatchAs, ast.MatchStar)):
            names = [node.name] if node.name else []
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names = [node.rest]
        for name in names:
            binds[name] = binds.get(name, 0) + 1
    return binds


def _blocks(stmts: list[ast.stmt]):
    """`stmts` and every block of statements in them, not those of an inner function or class (a scope of
    its own)."""
    yield stmts
    for stmt in stmts:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for value in ast.iter_fields(stmt):
            value = value[1]
            if isinstance(value, list) and value and all(isinstance(x, ast.stmt) for x in value):
                yield from _blocks(value)
            elif isinstance(value, list):
                for x in value:
                    if isinstance(x, (ast.ExceptHandler, ast.match_case)):
                        yield from _blocks(x.body)


def _scopes(stmts: list[ast.stmt]):
    """The functions and classes defined in `stmts`, at any depth."""
    for node in (n for s in stmts for n in ast.walk(s)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node


def _flag_tests(stmts: list[ast.stmt], rw: _AssertRewriter) -> dict[int, list[ast.stmt]]:
    """The exception tests written with a flag (see _flag_try) in the scope whose statements are `stmts` (the
    module's) and in every function and class in it: what each of their statements becomes (the `try` its
    rewritten form, the flag's assignment before it and its assert nothing), by id. A flag the scope binds or
    reads anywhere but in such tests is left as written, in all of them."""
    found: dict[int, list[ast.stmt]] = {}
    for scope, body in [(stmts, stmts), *(([d], d.body) for d in _scopes(stmts))]:
        tests: dict[str, list] = {}
        for block in _blocks(body):
            for k, stmt in enumerate(block[:-1]):
                prev = block[k - 1] if k else None
                got = _flag_try(stmt, block[k + 1], prev, rw)
                if got is not None:
                    tests.setdefault(got[0], []).append(got[1:])
        binds, reads = _binding_counts(scope), {name: _reads(scope, name) for name in tests}
        for flag, made in tests.items():
            if binds.get(flag) == sum(n for *_, n in made) and reads[flag] == len(made):
                for stmts_of, new, _ in made:
                    found.update({id(x): [] for x in stmts_of})
                    found[id(stmts_of[0])] = [new]
    return found


def _replace(body: list[ast.stmt], found: dict[int, list[ast.stmt]]) -> list[ast.stmt]:
    """`body` (and the blocks in it) with each statement whose id is in `found` replaced by what it holds."""
    for stmt in body:
        _rewrite_blocks(stmt, _replace, found)
    return [new for s in body for new in found.get(id(s), [s])]


def _sets_flag(stmt: ast.stmt | None, flag: str, value: bool) -> bool:
    """Whether `stmt` is `<flag> = True` (or False, as `value`)."""
    return (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
            and stmt.targets[0].id == flag and isinstance(stmt.value, ast.Constant) and stmt.value.value is value)


def _flag_try(stmt: ast.stmt, after: ast.stmt, prev: ast.stmt | None,
              rw: _AssertRewriter) -> tuple[str, list[ast.stmt], ast.Try, int] | None:
    """An exception test written with a flag: `try: f(-1) except ValueError: raised = True` (each handler
    only sets it) followed by `assert raised` (or `assert raised is True`, `== True`, a message written in
    the tests), the flag set False if nothing is raised (by the statement before the `try`, the last of its
    body or its `else:`), whose handlers' classes the caller resolves (see
    _AssertRewriter._exception_classes). The same test as `try: f(-1); assert False except ValueError: pass`,
    which visit_Try decides. Returned: the flag, the statements of the test (the `try` first), the `try` it
    becomes, and how many times they bind the flag; None for anything else."""
    if not isinstance(after, ast.Assert) or (after.msg is not None and not _literal(after.msg)[0]):
        return None
    test = after.test
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Is, ast.Eq))
            and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is True):
        test = test.left
    if not (isinstance(test, ast.Name) and isinstance(stmt, ast.Try) and stmt.handlers and not stmt.finalbody):
        return None
    flag = test.id
    for h in stmt.handlers:
        if not _sets_flag(h.body[-1], flag, True) or not all(
                isinstance(s, ast.Pass) or isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                for s in h.body[:-1]):
            return None
        if h.type is not None and rw._exception_classes(h.type) is None:
            return None  # a class the caller cannot resolve: as written
    body, parts, sets = stmt.body, [stmt, after], len(stmt.handlers)
    if _sets_flag(body[-1], flag, False):
        body, sets = body[:-1], sets + 1
    elif len(stmt.orelse) == 1 and _sets_flag(stmt.orelse[0], flag, False):
        sets += 1
    elif _sets_flag(prev, flag, False) and not stmt.orelse:
        parts, sets = [stmt, after, prev], sets + 1
    else:
        return None  # not set False when nothing is raised: it holds what it held
    if not body or (stmt.orelse and not _sets_flag(stmt.orelse[0], flag, False)):
        return None
    fails = ast.copy_location(ast.Assert(test=ast.Constant(False), msg=None), after)
    handlers = [ast.copy_location(ast.ExceptHandler(type=h.type, name=None, body=[ast.Pass()]), h)
                for h in stmt.handlers]
    new = ast.Try(body=[*body, fails], handlers=handlers, orelse=[], finalbody=[])
    return flag, parts, ast.fix_missing_locations(ast.copy_location(new, stmt)), sets


def _reads(nodes: list[ast.AST], name: str) -> int:
    """How many times the trees `nodes` read the variable `name`."""
    return sum(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)
               for x in nodes for n in ast.walk(x))


def _fixture(fn: ast.FunctionDef) -> ast.FunctionDef | str | None:
    """For a `@pytest.fixture` of the tests' own: the plain function that makes its value (named
    `<name>__ponder_fixture`, its arguments the fixtures it requests), or why it cannot be run; None for any
    other function. Not `params=` (it makes more tests), `autouse=` (it runs around every test), nor a `yield
    from` one; a `yield` one's teardown runs before the next test statement (see _fixture_setup)."""
    decs = [d for d in fn.decorator_list
            if _func_name(d.func if isinstance(d, ast.Call) else d) == "pytest.fixture"]
    if not decs:
        return None
    d = decs[0]
    options = isinstance(d, ast.Call) and (d.args or any(k.arg != "scope" for k in d.keywords))
    if len(fn.decorator_list) > 1 or options or isinstance(fn, ast.AsyncFunctionDef):
        return f"unsupported fixture '{fn.name}'"
    a = fn.args
    if a.posonlyargs or a.vararg or a.kwonlyargs or a.kwarg or a.defaults:
        return f"unsupported fixture '{fn.name}'"
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
    todo: list[ast.AST] = list(fn.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.YieldFrom):
            return f"unsupported yield fixture '{fn.name}'"
        todo.extend(c for c in ast.iter_child_nodes(node) if not isinstance(c, scopes))
    new = copy.deepcopy(fn)
    new.decorator_list = []
    new.name = f"{fn.name}__ponder_fixture"
    return new


# pytest's own fixtures that the sandbox provides (see the harness's run_program): tmp_path, monkeypatch, capsys (its
# captured text is the program's output, a value of the program's as any other)
_PYTEST_FIXTURES = frozenset({"tmp_path", "monkeypatch", "capsys"})


def _fixture_setup(names: list[str], fixtures: dict, label: str) -> list[ast.stmt] | str:
    """Statements that bind the fixtures `names` (and those they request, each once, as pytest shares them
    within a test) at the top of a test: `data = data__ponder_fixture()`. A fresh value per test, whatever the
    fixture's scope. The values are made in the sandbox, by the tests' own code."""
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(n: str) -> str | None:
        if state.get(n) == "done":
            return None
        if state.get(n) == "busy":
            return f"unsupported fixture cycle through '{n}' in {label}"
        f = fixtures.get(n)
        if f is None and n in _PYTEST_FIXTURES:
            state[n] = "done"
            order.append(n)
            return None
        if f is None:
            return f"unsupported pytest fixture '{n}' in {label}"
        if isinstance(f, str):
            return f"{f} in {label}"
        state[n] = "busy"
        for dep in f.args.args:
            why = visit(dep.arg)
            if why:
                return why
        state[n] = "done"
        order.append(n)
        return None

    for n in names:
        why = visit(n)
        if why:
            return why
    def make(n: str) -> ast.expr:
        if n not in fixtures:
            return _call(f"__ponder_{n}__")
        value = _call(f"{n}__ponder_fixture", *(ast.Name(dep.arg, ast.Load()) for dep in fixtures[n].args.args))
        # a `yield` fixture's value is what it yields; the rest of it runs as the next statement starts
        return _call("__ponder_yielded__", value) if _yields(fixtures[n]) else value
    return [ast.Assign(targets=[ast.Name(n, ast.Store())], value=make(n)) for n in order]


def _yields(fn: ast.FunctionDef) -> bool:
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
    todo: list[ast.AST] = list(fn.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Yield):
            return True
        todo.extend(c for c in ast.iter_child_nodes(node) if not isinstance(c, scopes))
    return False


def _expand_test(fn, owner: str | None, tables: dict, used: dict, fixtures: dict, bound: set[str]) -> list | str:
    """The functions to call for test function `fn` (a method of class `owner`), as (def, label) pairs, one per
    parametrized case: plain functions with no decorator and no arguments but `self` (fixtures the tests define
    are bound at the top of the body); [] for a skipped test. A string says why it cannot be run."""
    label = f"{owner}::{fn.name}" if owner else fn.name
    if isinstance(fn, ast.AsyncFunctionDef):
        return f"unsupported async test {label}"
    sets = []
    for dec in fn.decorator_list:
        mark = _pytest_mark(dec)
        if mark is None:
            return f"unsupported decorator on {label}"
        if mark == "skip":
            return []
        if mark in _UNSUPPORTED_MARKS:
            return f"unsupported pytest mark '{mark}' on {label}"
        if mark == "parametrize":
            got = _parametrize(dec, tables, bound)
            if isinstance(got, str):
                return f"{got} on {label}"
            sets.append(got[:2])
            if got[2] is not None:
                used[got[2]] = used.get(got[2], 0) + 1
    a = fn.args
    params = [p.arg for p in a.args]
    if a.posonlyargs or a.vararg or a.kwonlyargs or a.kwarg or (owner and not params):
        return f"unsupported signature of {label}"
    first = 1 if owner else 0  # self
    required = params[first:len(params) - len(a.defaults)]
    given = [n for names, _ in sets for n in names]
    if len(set(given)) != len(given):
        return f"unsupported parametrize of an argument twice on {label}"
    requested = [n for n in required if n not in given]
    setup = _fixture_setup(requested, fixtures, label)
    if isinstance(setup, str):
        return setup
    for n in given:
        if n not in params[first:]:
            return f"parametrize of '{n}', no argument of {label}"
    defaults = dict(zip(params[len(params) - len(a.defaults):], a.defaults))
    kept = [p for p in a.args if p.arg not in given and p.arg not in requested]
    combos: list[dict] = [{}]
    for _, cases in sets:  # stacked decorators: every combination
        combos = [{**c, **d} for c in combos for d in cases]
    out = []
    for k, case in enumerate(combos):
        new = copy.deepcopy(fn)
        new.decorator_list = []
        new.args = ast.arguments(posonlyargs=[], args=copy.deepcopy(kept), vararg=None, kwonlyargs=[],
                                 kw_defaults=[], kwarg=None,
                                 defaults=[defaults[p.arg] for p in kept if p.arg in defaults])
        # a value the body assigns from the case or other values written in it (`x, want = case`, `expected =
        # [1, 2]`) is bound into it too (see _bind_known)
        new.body = copy.deepcopy(setup) + _bind_known(_bind_case(new.body, case), bound, lambda x: False)
        if sets:
            new.name = f"{fn.name}__ponder_case_{k + 1}"
        out.append((new, f"{label}[{k + 1}]" if sets else label))
    return out


# unittest.TestCase assertion methods, rewritten by the caller into the asserts it decides (the `msg` argument is
# dropped): name -> (positional operands, how the assert is built from them)
def _ut_cmp(op):
    return lambda a, b: ast.Compare(left=a, ops=[op()], comparators=[b])


def _ut_not(e: ast.expr) -> ast.expr:
    return ast.UnaryOp(op=ast.Not(), operand=e)


_UT_ASSERTS = {
    **dict.fromkeys(("assertEqual", "assertEquals", "assertListEqual", "assertTupleEqual", "assertDictEqual",
                     "assertSetEqual", "assertMultiLineEqual"), (2, _ut_cmp(ast.Eq))),
    **dict.fromkeys(("assertNotEqual", "assertNotEquals"), (2, _ut_cmp(ast.NotEq))),
    # a list and a tuple of the same items are the same sequence here, as unittest compares them
    "assertSequenceEqual": (2, lambda a, b: ast.Compare(left=_call("list", a), ops=[ast.Eq()],
                                                        comparators=[_call("list", b)])),
    "assertIs": (2, _ut_cmp(ast.Is)), "assertIsNot": (2, _ut_cmp(ast.IsNot)),
    "assertIn": (2, _ut_cmp(ast.In)), "assertNotIn": (2, _ut_cmp(ast.NotIn)),
    "assertGreater": (2, _ut_cmp(ast.Gt)), "assertGreaterEqual": (2, _ut_cmp(ast.GtE)),
    "assertLess": (2, _ut_cmp(ast.Lt)), "assertLessEqual": (2, _ut_cmp(ast.LtE)),
    **dict.fromkeys(("assertTrue", "assert_"), (1, lambda x: x)),
    "assertFalse": (1, _ut_not),
    "assertIsNone": (1, lambda x: ast.Compare(left=x, ops=[ast.Is()], comparators=[ast.Constant(None)])),
    "assertIsNotNone": (1, lambda x: ast.Compare(left=x, ops=[ast.IsNot()], comparators=[ast.Constant(None)])),
    "assertIsInstance": (2, lambda a, t: _call("isinstance", a, t)),
    "assertNotIsInstance": (2, lambda a, t: _ut_not(_call("isinstance", a, t))),
    # the same items as often: sorted (a multiset compare for orderable items; never true when they differ)
    "assertCountEqual": (2, lambda a, b: _call("__ponder_count_equal__", a, b)),
    "fail": (0, lambda: ast.Constant(False)),
}
_UT_ALMOST = ("assertAlmostEqual", "assertAlmostEquals", "assertNotAlmostEqual", "assertNotAlmostEquals")
# what a test method may not use once its base is gone (assertRaisesRegex, assertLogs, skipTest...)
_UT_ATTRS = frozenset(n for n in dir(unittest.TestCase) if not n.startswith("_"))
_UT_HOOKS = ("setUp", "tearDown")
_UT_CLASS_HOOKS = ("setUpClass", "tearDownClass")  # classmethods, called once around the class's tests
_UT_UNSUPPORTED = ("asyncSetUp", "asyncTearDown", "__init__", "run", "__call__")


def _testcase_names(modules: list[ast.Module]) -> tuple[set[str], set[str], set[str]]:
    """How the tests spell `unittest.TestCase` (`unittest.TestCase`, `ut.TestCase`, a `TestCase` imported from
    unittest), the names they bind to the module `unittest`, and to other names imported from it
    (`IsolatedAsyncioTestCase`). A name they also bind to anything else is not surely unittest's, and not
    counted."""
    spelled, mods, other, ut_other = set(), set(), set(), set()
    for node in (n for mod in modules for n in ast.walk(mod)):
        if isinstance(node, ast.Import):
            for a in node.names:
                real = a.name == "unittest" or (a.asname is None and a.name.startswith("unittest."))
                (mods if real else other).add(a.asname or a.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            for a in node.names:
                real = node.module == "unittest" and not node.level and a.name == "TestCase"
                (spelled if real else other).add(a.asname or a.name)
                if node.module == "unittest" and not node.level and not real:
                    ut_other.add(a.asname or a.name)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            other.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            other.add(node.name)
        elif isinstance(node, ast.arg):
            other.add(node.arg)
    return (spelled - other) | {f"{m}.TestCase" for m in mods - other}, mods - other, ut_other


class _UnittestAsserts(ast.NodeTransformer):
    """`self.assertEqual(a, b)` -> `assert a == b` and the like (see _UT_ASSERTS); `with self.assertRaises(E):
    body` and `self.assertRaises(E, f, *args)` -> `try: body / except E: pass / else: assert False`, the form
    _AssertRewriter.visit_Try decides. Anything else of TestCase's is left, and found by _unittest_method."""

    def __init__(self, me: str):
        self.me = me  # the method's first parameter

    def _method(self, e) -> str | None:
        if (isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute) and isinstance(e.func.value, ast.Name)
                and e.func.value.id == self.me):
            return e.func.attr
        return None

    def _raises(self, exc: ast.expr, body: list[ast.stmt]) -> ast.Try:
        return ast.Try(body=body, handlers=[ast.ExceptHandler(type=exc, name=None, body=[ast.Pass()])],
                       orelse=[ast.Assert(test=ast.Constant(False))], finalbody=[])

    def visit_With(self, node: ast.With):
        call = node.items[0].context_expr
        if len(node.items) == 1 and node.items[0].optional_vars is None and self._method(call) == "subTest":
            # a sub-test only labels its failures, and any failing one fails the test: the body as if unwrapped
            # (its arguments, labels only, are dropped)
            return [s for stmt in node.body for s in _statements(self.visit(stmt))]
        if (len(node.items) == 1 and node.items[0].optional_vars is None and self._method(call) == "assertRaises"
                and len(call.args) == 1 and not isinstance(call.args[0], ast.Starred)
                and all(k.arg == "msg" for k in call.keywords)):
            return ast.copy_location(self._raises(call.args[0], [self.visit(s) for s in node.body]), node)
        target = node.items[0].optional_vars if len(node.items) == 1 else None
        name = self._method(call) if len(node.items) == 1 else None
        n = {"assertRaises": 1, "assertRaisesRegex": 2}.get(name)
        if (n and (target is None or isinstance(target, ast.Name)) and len(call.args) == n
                and not isinstance(call.args[0], ast.Starred) and all(k.arg == "msg" for k in call.keywords)
                and (n == 1 or isinstance(call.args[1], ast.Constant) and type(call.args[1].value) is str)):
            # `with self.assertRaises(E) as cm:` (then `cm.exception`) and `with self.assertRaisesRegex(E, r)`:
            # pytest.raises(E[, match=r]) as cm, which _AssertRewriter.visit_With decides (or, marked as
            # unittest's, refuses: the sandbox has no pytest to run it as written)
            raises = ast.Call(func=ast.Name("__ponder_ut_raises__", ast.Load()), args=[call.args[0]],
                              keywords=[ast.keyword("match", call.args[1])] if n == 2 else [])
            body = [s for stmt in node.body for s in _statements(self.visit(stmt))]
            return ast.copy_location(ast.With(items=[ast.withitem(raises, target)], body=body), node)
        return self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr):
        call, name = node.value, self._method(node.value)
        if name is None or any(isinstance(a, ast.Starred) for a in call.args) or any(
                k.arg is None for k in call.keywords):
            return self.generic_visit(node)
        args, kw = list(call.args), {k.arg: k.value for k in call.keywords}
        if name == "assertRaises" and len(args) >= 2:  # the call form: every other argument is the callable's
            body = [ast.Expr(ast.Call(func=args[1], args=args[2:], keywords=call.keywords))]
            return ast.copy_location(self._raises(args[0], body), node)
        if name in _UT_ALMOST:
            names = ["first", "second", "places", "msg", "delta"]
            if len(args) > len(names) or any(k not in names[2:] or names.index(k) < len(args) for k in kw):
                return node
            # an explicit None is unittest's default: places 7, no delta
            got = {k: v for k, v in (dict(zip(names, args)) | kw).items() if not _literal(v) == (True, None)}
            if "first" not in got or "second" not in got or "places" in got and "delta" in got:
                return node
            # decided by the caller as unittest does (see _almost_equal), each operand run once in the sandbox
            test = _call("__ponder_almost__", got["first"], got["second"], got.get("places", ast.Constant(None)),
                         got.get("delta", ast.Constant(None)), ast.Constant("Not" not in name))
            return ast.copy_location(ast.Assert(test=test), node)
        if name not in _UT_ASSERTS:
            return self.generic_visit(node)
        n, build = _UT_ASSERTS[name]
        if set(kw) - {"msg"} or not n <= len(args) <= n + 1 - ("msg" in kw):
            return node  # found as unsupported
        return ast.copy_location(ast.Assert(test=build(*args[:n])), node)


def _unittest_method(fn, cls: str, own: set[str]):
    """Method `fn` of unittest class `cls` with its assertion methods rewritten (a plain method of a class with no
    base, to be called on a fresh instance), or why it cannot be run."""
    label = f"{cls}::{fn.name}"
    a = fn.args
    run = fn.name.startswith("test") or fn.name in _UT_HOOKS  # called here, on an instance, with no argument
    if run and isinstance(fn, ast.AsyncFunctionDef):
        return f"unsupported async test {label}"
    if run and (a.posonlyargs or a.vararg or a.kwonlyargs or a.kwarg or len(a.args) != 1 or a.defaults):
        return f"unsupported signature of {label}"
    if not (a.posonlyargs or a.args):
        return fn  # a static helper: no `self` to call assertion methods on
    me = (a.posonlyargs or a.args)[0].arg
    new = _UnittestAsserts(me).visit(copy.deepcopy(fn))
    # `super().setUp()` (or setUpClass...) reaches TestCase's, which does nothing: dropped with the base
    new.body = [s for s in new.body if not (
        isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and isinstance(s.value.func, ast.Attribute)
        and s.value.func.attr in (*_UT_HOOKS, *_UT_CLASS_HOOKS) and isinstance(s.value.func.value, ast.Call)
        and _func_name(s.value.func.value.func) == "super")] or [ast.Pass()]
    for node in ast.walk(new):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == me
                and isinstance(node.ctx, ast.Load) and node.attr in _UT_ATTRS and node.attr not in own):
            return f"unsupported self.{node.attr} in {label}"
        if isinstance(node, ast.Name) and node.id == "super":
            return f"unsupported super() in {label}"
    return new


def _iter_reads(body: list[ast.stmt]) -> dict[int, bool]:
    """The ids of the nodes in the iterables of `body`'s `for` loops, each with whether that iterable may be
    evaluated more than once when `body` runs (in a loop's body, a comprehension, a nested function)."""
    found: dict[int, bool] = {}
    todo = [(s, False) for s in body]
    while todo:
        node, repeated = todo.pop()
        if isinstance(node, ast.For):
            found.update((id(n), repeated) for n in ast.walk(node.iter))
            todo.extend((c, True) for c in [node.target, *node.body])
            todo.extend((c, repeated) for c in node.orelse)
            continue
        todo.extend((c, repeated or isinstance(node, _REPEATING)) for c in ast.iter_child_nodes(node))
    return found


def _bind_setup_attrs(methods: list[ast.stmt], bound: set[str], everywhere: list[ast.Module], cls: str,
                      hook: str | None = "setUp") -> None:
    """Each attribute that a unittest class's `setUp` sets, at its top level, to a value the caller evaluates
    (`self.expected = [1, 2]`), is stored nowhere else, and is read only in its tests' asserts as _compared_only
    allows (`self.assertEqual(f(1), self.expected)`), written in at each read, its assignment dropped: the
    sandbox held it on the instance, which the program reached from its caller's frame (`self`). So is a table
    of test data read in a `for` loop's iterable (`for x, want in self.cases:`, then written out as a test's
    own loop is: see _unroll), where that is the same as reading it: the one read of it in its test, evaluated
    once, or any number of reads of a table of immutable items that are the loops' iterables themselves (no
    code holds the table, so none changes it); and so is a class attribute (`cases = [...]` in the class's body, read as `self.cases` or
    `T.cases`, or `more = cases + [...]`, computed from those before it), bound nowhere else, where each read is as above and, since every test shares its object,
    one read in a loop's iterable is the only read of a mutable one in the class. `hook`: the method run before
    each test (None: a pytest class's, whose attributes only)."""
    fns = [m for m in methods if isinstance(m, ast.FunctionDef) and m.args.args]
    setup = next((m for m in fns if m.name == hook), None)
    stored: dict[str, int] = {}  # (anywhere: `T.cases = ...` after the class changes its attribute too)
    for n in (n for m in everywhere for n in ast.walk(m)):
        if isinstance(n, ast.Attribute) and not isinstance(n.ctx, ast.Load):
            stored[n.attr] = stored.get(n.attr, 0) + 1
        if (isinstance(n, ast.Name) and n.id in ("setattr", "delattr", "vars", "getattr")
                or isinstance(n, ast.Attribute) and n.attr == "__dict__"):
            return  # reaches the attributes otherwise
    # attr -> (the statement that binds it, its value written as a literal, the value, whether a class's)
    found: dict[str, tuple[ast.stmt, ast.expr, object, bool]] = {}

    def evaluate(e: ast.expr, known: dict | None = None):
        tree = _caller_tree(e, bound, frozenset(known or ()))
        if tree is None:
            return None
        try:
            evaluator = _Evaluator()
            evaluator.left = _MAX_KNOWN
            value = evaluator.eval(tree, [], dict(known or {}))
            if _deep_len(value, _MAX_KNOWN) > _MAX_KNOWN:
                return None
            return value, _value_ast(value)
        except Exception:  # anything the caller cannot evaluate stays the sandbox's assignment
            return None

    me = setup.args.args[0].arg if setup is not None else None
    for stmt in setup.body if setup is not None else []:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Attribute)
                and isinstance(stmt.targets[0].value, ast.Name) and stmt.targets[0].value.id == me):
            continue
        attr = stmt.targets[0].attr
        got = evaluate(stmt.value) if stored.get(attr) == 1 else None
        if got is not None:
            found[attr] = (stmt, got[1], got[0], False)
    names = _binding_counts(methods)  # (a name the class's body binds twice, or a method's, is no table)
    # a class attribute may be computed from those before it, which the class's body reads as names (`more =
    # cases + [(5, 10)]`): evaluated with their values, where the body reads them nowhere but in such values
    # (nothing changed them in between) and the value shares no mutable part with theirs
    known: dict[str, object] = {}
    uses: dict[str, set[str]] = {}  # class attribute -> the class's names its value reads
    for stmt in methods:
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                and names.get(stmt.targets[0].id) == 1 and stmt.targets[0].id not in stored
                and stmt.targets[0].id not in found):
            used = {n.id for n in ast.walk(stmt.value) if isinstance(n, ast.Name) and n.id in known}
            if used and any(isinstance(n, (ast.Lambda, ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp))
                            for n in ast.walk(stmt.value)):
                continue  # (in a class body, a comprehension's item does not see the class's names)
            got = evaluate(stmt.value, {n: known[n] for n in used})
            if got is None or _mutable_ids(got[0]) & _mutable_ids([known[n] for n in used]):
                continue
            known[stmt.targets[0].id] = got[0]
            uses[stmt.targets[0].id] = used
            found[stmt.targets[0].id] = (stmt, got[1], got[0], True)
    values = {id(n) for a in uses for n in ast.walk(found[a][0].value)}
    changed = True
    while changed:  # a name read otherwise, and every value computed from it, stays the sandbox's
        changed = False
        for a in list(uses):
            if any(isinstance(n, ast.Name) and n.id == a and isinstance(n.ctx, ast.Load) and id(n) not in values
                   for m in methods for n in ast.walk(m)) or uses[a] - set(uses):
                del uses[a], found[a]
                values = {id(n) for b in uses for n in ast.walk(found[b][0].value)}
                changed = True

    def reads(node, attr):
        return [n for n in ast.walk(node) if isinstance(n, ast.Attribute) and n.attr == attr
                and isinstance(n.ctx, ast.Load)]

    subs: dict[str, ast.expr] = {}
    for attr, (_, value_ast, value, shared) in found.items():
        seen = looped = 0
        frozen = _immutable(value) or type(value) in (list, tuple) and all(_immutable(x) for x in value)
        for m in (m for m in fns if m is not setup):
            me_m = m.args.args[0].arg
            got = reads(m, attr)
            seen += len(got)
            owners = (me_m, cls) if shared else (me_m,)
            loops = _iter_reads(m.body)
            in_loop = [n for n in got if loops.get(id(n)) is False]
            looped += len(in_loop)
            # a table of immutable items that loops only iterate (`for x, want in self.cases:`, the read the
            # loop's iterable itself) is never changed: each read may be its literal, however many
            iters = {id(n.iter) for n in ast.walk(m) if isinstance(n, ast.For)}
            rest = [n for n in got if id(n) not in iters] if frozen else got
            if got and not (m.name.startswith("test") and all(
                    isinstance(n.value, ast.Name) and n.value.id in owners for n in got) and (
                    in_loop == got and len(got) == 1 or not any(loops.get(id(n)) is False for n in rest)
                    and _compared_only(m.body, None, lambda n, rest=rest: any(n is x for x in rest)))):
                break
        else:
            if (seen == sum(len(reads(mod, attr)) for mod in everywhere)  # read outside the class's methods
                    and not (shared and looped and seen > 1 and not frozen)):
                subs[attr] = value_ast
    if not subs:
        return
    # a class attribute a kept statement reads as a name stays assigned too (dropped, that was a NameError)
    keep: set[str] = set()
    while True:
        kept = [s for s in methods if not (isinstance(s, ast.Assign) and any(
            s is found[a][0] for a in subs if a not in keep))]
        more = {a for a in subs if a not in keep and found[a][3] and _reads(kept, a)}
        if not more:
            break
        keep |= more
    drop = {id(found[attr][0]) for attr in subs if attr not in keep}
    if setup is not None:
        setup.body = [s for s in setup.body if id(s) not in drop] or [ast.Pass()]
    methods[:] = [s for s in methods if id(s) not in drop] or [ast.Pass()]

    class Write(ast.NodeTransformer):
        def visit_Attribute(self, node):
            if (isinstance(node.ctx, ast.Load) and node.attr in subs and isinstance(node.value, ast.Name)
                    and node.value.id in self.owners):
                return ast.copy_location(copy.deepcopy(subs[node.attr]), node)
            return self.generic_visit(node)

    for m in fns:
        if m is not setup and m.name.startswith("test"):
            w = Write()
            w.owners = (m.args.args[0].arg, cls)
            m.body = [ast.fix_missing_locations(w.visit(st)) for st in m.body]


def _unittest_class(stmt: ast.ClassDef, ut_mods: set[str]) -> tuple[list, list] | str:
    """A unittest.TestCase class as a plain class with no base: its methods (assertion methods rewritten), and
    its tests `test*` in file order as (label, call source, def), setUp/tearDown around each; or why not."""
    skip = {f"{m}.skip" for m in ut_mods}
    for d in stmt.decorator_list:
        if _func_name(d.func if isinstance(d, ast.Call) else d) in skip:
            return [ast.Pass()], []
        return f"unsupported decorator on {stmt.name}"
    fns = (ast.FunctionDef, ast.AsyncFunctionDef)
    final = {m.name: m for m in stmt.body if isinstance(m, (*fns, ast.ClassDef))}
    # its own methods and what it stores on the instance (`self.id = ...` in setUp) are not TestCase's
    own = set(final) | {n.attr for m in stmt.body if isinstance(m, fns) and m.args.args for n in ast.walk(m)
                        if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)
                        and isinstance(n.value, ast.Name) and n.value.id == m.args.args[0].arg}
    for name in own & (set(_UT_ASSERTS) | set(_UT_ALMOST) | {"assertRaises", "subTest"}):
        return f"unsupported {name} of its own in {stmt.name}"
    for name in _UT_UNSUPPORTED:
        if name in final:
            return f"unsupported {name} in {stmt.name}"
    for name in _UT_CLASS_HOOKS:  # unittest calls them on the class: only a plain classmethod is that
        m = final.get(name)
        if m is not None and not (isinstance(m, ast.FunctionDef) and len(m.decorator_list) == 1
                                  and _func_name(m.decorator_list[0]) == "classmethod"):
            return f"unsupported {name} in {stmt.name}"
    body, tests = [], []
    for m in stmt.body:
        if not isinstance(m, fns):
            body.append(m)
            continue
        if final[m.name] is not m:
            continue  # redefined further down the class
        made = _unittest_method(m, stmt.name, own)
        if isinstance(made, str):
            return made
        if m.name.startswith("test"):
            if any(_func_name(d.func if isinstance(d, ast.Call) else d) in skip for d in m.decorator_list):
                continue
            if m.decorator_list:
                return f"unsupported decorator on {stmt.name}::{m.name}"
            tests.append(made)
        body.append(made)
    entries = []
    for d in tests:
        call = f"__ponder_case__.{d.name}()"
        if "tearDown" in final:  # run after the test whatever its end, as unittest does
            call = f"try:\n    {call}\nfinally:\n    __ponder_case__.tearDown()"
        setup = "__ponder_case__.setUp()\n" if "setUp" in final else ""
        entries.append((f"{stmt.name}::{d.name}", f"__ponder_case__ = {stmt.name}()\n{setup}{call}", d))
    # setUpClass/tearDownClass: statements of their own around the class's tests (no def: no test; their
    # exception fails the run, named)
    if entries and "setUpClass" in final:
        entries.insert(0, (f"{stmt.name}::setUpClass", f"{stmt.name}.setUpClass()", None))
    if entries and "tearDownClass" in final:
        entries.append((f"{stmt.name}::tearDownClass", f"{stmt.name}.tearDownClass()", None))
    return body or [ast.Pass()], entries


_XUNIT_METHODS = ("setup_method", "teardown_method")


def _xunit_method(m: ast.stmt) -> bool:
    """Whether `m` is a setup_method/teardown_method pytest calls as this one: a plain method of `self` and
    maybe the test method."""
    a = m.args
    return (isinstance(m, ast.FunctionDef) and not m.decorator_list and not (a.posonlyargs or a.vararg
            or a.kwonlyargs or a.kwarg or a.defaults) and 1 <= len(a.args) <= 2)


def _xunit_call(cls: str, name: str, methods: dict) -> str:
    """The statement that runs test method `name` of pytest class `cls` on a fresh instance, between its
    setup_method and teardown_method (run whatever the test's end), as pytest does."""
    def hook(n: str) -> str:
        arg = f"__ponder_case__.{name}" if len(methods[n].args.args) == 2 else ""
        return f"__ponder_case__.{n}({arg})"
    if not any(n in methods for n in _XUNIT_METHODS):
        return f"{cls}().{name}()"
    call = f"__ponder_case__.{name}()"
    if "teardown_method" in methods:
        call = f"try:\n    {call}\nfinally:\n    {hook('teardown_method')}"
    setup = f"{hook('setup_method')}\n" if "setup_method" in methods else ""
    return f"__ponder_case__ = {cls}()\n{setup}{call}"


def _collect_tests(modules: list[ast.Module]) -> tuple[list, list, str | None]:
    """pytest's collection, for tests that define functions `test*` (or classes `Test*` with methods `test*`)
    and do not call them: the top-level statements of each module, as a list of statement lists (one per
    statement of the source, so that "test statement K" still counts them), with the collected functions in
    place of their definitions; the collected functions in file order, as (label, call source, def); and why the
    tests cannot be run, if they cannot."""
    called = _used_names(modules)
    early_bound = _bound_names(modules)  # before any rewriting (see `bound` below)
    testcase, ut_mods, ut_other = _testcase_names(modules)
    stores: dict[str, int] = {}
    loads: dict[str, int] = {}
    for node in (n for mod in modules for n in ast.walk(mod) if isinstance(n, ast.Name)):
        counts = loads if isinstance(node.ctx, ast.Load) else stores
        counts[node.id] = counts.get(node.id, 0) + 1
    tables, where = {}, {}  # `CASES = [...]` (or a dict), bound once at the top level: a table of test data
    for mi, mod in enumerate(modules):
        for si, stmt in enumerate(mod.body):
            if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                    and isinstance(stmt.targets[0], ast.Name)
                    and isinstance(stmt.value, (ast.List, ast.Tuple, ast.Dict))
                    and stores[stmt.targets[0].id] == 1):
                tables[stmt.targets[0].id] = stmt.value
                where[stmt.targets[0].id] = (mi, si)
    bodies = [[[stmt] for stmt in mod.body] for mod in modules]
    defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    # a test defined twice (generated test files do it) is the last definition, the only one pytest sees: the
    # earlier ones are dropped, not left with asserts that never run
    last = {stmt.name: (mi, si) for mi, mod in enumerate(modules) for si, stmt in enumerate(mod.body)
            if isinstance(stmt, defs)}
    fixtures: dict = {}  # name -> the plain function that makes its value, or why it cannot be run
    places: set[tuple[int, int]] = set()
    around = None  # setup/teardown or an autouse fixture: reported only if there are tests to run around
    module_hooks = set()  # unittest's setUpModule/tearDownModule: called once before/after all the tests
    for mi, mod in enumerate(modules):
        for si, stmt in enumerate(mod.body):
            if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            autouse = any(isinstance(d, ast.Call) and _func_name(d.func) == "pytest.fixture" and any(
                k.arg == "autouse" and _literal(k.value) != (True, False) for k in d.keywords)
                for d in stmt.decorator_list)
            if testcase and stmt.name in ("setUpModule", "tearDownModule") and isinstance(
                    stmt, ast.FunctionDef) and not stmt.decorator_list:
                module_hooks.add(stmt.name)
            elif stmt.name in _SETUP_NAMES or autouse or (testcase and stmt.name in ("setUpModule",
                                                                                     "tearDownModule")):
                around = around or f"unsupported {'autouse fixture ' if autouse else ''}{stmt.name}"
            made = _fixture(stmt)
            if made is not None:
                fixtures[stmt.name] = made
                places.add((mi, si))
                if not isinstance(made, str):
                    bodies[mi][si] = [made]
    entries: list = []
    used: dict[str, int] = {}
    for mi, mod in enumerate(modules):
        for si, stmt in enumerate(mod.body):
            if (mi, si) in places:  # a fixture, even one named test_data, is no test
                continue
            if (isinstance(stmt, defs) and stmt.name.startswith(("test", "Test")) and stmt.name not in called
                    and last[stmt.name] != (mi, si)):
                bodies[mi][si] = []
            elif isinstance(stmt, ast.ClassDef) and any(_func_name(b) in testcase for b in stmt.bases):
                # a unittest.TestCase class: collected by any name, as unittest does; its base is dropped (its
                # assertion methods are rewritten into asserts the caller decides, and the sandbox's TestCase
                # would be the program's to replace)
                if len(stmt.bases) != 1 or stmt.keywords:
                    return bodies, [], f"unsupported bases of {stmt.name}"
                if stmt.name in called:
                    return bodies, [], f"unsupported unittest class {stmt.name} used by the tests themselves"
                got = _unittest_class(stmt, ut_mods)
                if isinstance(got, str):
                    return bodies, [], got
                stmt.bases, (stmt.body, found) = [], got
                _bind_setup_attrs(stmt.body, early_bound, modules, stmt.name)
                for m in stmt.body:  # `expected = [1, 2]` then `self.assertEqual(f(1), expected)`: the caller's,
                    # as in a pytest test function (see _bind_known); in the sandbox the program read it
                    if isinstance(m, ast.FunctionDef) and m.name.startswith("test"):
                        m.body = _bind_known(m.body, early_bound, lambda x: False)
                entries.extend(found)
            elif isinstance(stmt, ast.ClassDef) and any(
                    (_func_name(b) or "").endswith("TestCase") and ((_func_name(b) or "").split(".")[0] in ut_mods
                                                                    or _func_name(b) in ut_other)
                    for b in stmt.bases):
                return bodies, [], f"unsupported bases of {stmt.name}"  # IsolatedAsyncioTestCase
            elif (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
                  and _func_name(stmt.value.func) in {f"{m}.main" for m in ut_mods}):
                bodies[mi][si] = []  # `unittest.main()` outside a main guard: the tests are collected here
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if not stmt.name.startswith("test") or stmt.name in called:
                    continue
                got = _expand_test(stmt, None, tables, used, fixtures, early_bound)
                if isinstance(got, str):
                    return bodies, [], got
                bodies[mi][si] = [d for d, _ in got]
                entries.extend((label, f"{d.name}()", d) for d, label in got)
            elif (isinstance(stmt, ast.ClassDef) and stmt.name.startswith("Test") and stmt.name not in called
                  and not stmt.keywords and all(_func_name(b) == "object" for b in stmt.bases)):
                if stmt.decorator_list:
                    return bodies, [], f"unsupported decorator on {stmt.name}"
                _bind_setup_attrs(stmt.body, early_bound, modules, stmt.name, None)  # its tables (`cases = [...]`)
                body = []
                final = {m.name: m for m in stmt.body if isinstance(m, defs)}
                for m in stmt.body:
                    if isinstance(m, defs) and m.name.startswith("test") and final[m.name] is not m:
                        continue  # redefined further down the class
                    if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and m.name in _SETUP_NAMES and not (
                            m.name in _XUNIT_METHODS and _xunit_method(m)):
                        return bodies, [], f"unsupported {m.name} in {stmt.name}"
                    if not (isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and m.name.startswith("test")):
                        body.append(m)
                        continue
                    got = _expand_test(m, stmt.name, tables, used, fixtures, early_bound)
                    if isinstance(got, str):
                        return bodies, [], got
                    body.extend(d for d, _ in got)
                    entries.extend((label, _xunit_call(stmt.name, d.name, final), d) for d, label in got)
                stmt.body = body or [ast.Pass()]
    if entries and around:
        return bodies, [], around
    if entries and "setUpModule" in module_hooks:
        entries.insert(0, ("setUpModule", "setUpModule()", None))
    if entries and "tearDownModule" in module_hooks:
        entries.append(("tearDownModule", "tearDownModule()", None))
    # a test's `for` loops over items the caller knows are written out, one copy of the body per item
    # (see _unroll)
    # reads of a table in a `for` loop's iterable, by item in a loop's body, or as a parametrize table
    iters = _loop_reads(modules)
    for node in (n for mod in modules for n in ast.walk(mod)):
        if isinstance(node, ast.Call) and _pytest_mark(node) == "parametrize":
            for a in [*node.args, *(k.value for k in node.keywords)]:
                if isinstance(a, ast.Name):
                    iters[a.id] = iters.get(a.id, 0) + 1
    # and in an assert's comprehension's iterable (`assert all(f(x) == want for x, want in CASES)`), where the
    # table is bound nowhere else (no parameter or local of that name reads as it): each such read is the table's
    # literal, so its items are the caller's, `want` with them (read as a name, the table was the sandbox's, the
    # program's to read its expected values from)
    binds: dict[str, int] = {}
    for name, _ in _bindings(modules):
        binds[name] = binds.get(name, 0) + 1
    comp_reads = [n for mod in modules for a in ast.walk(mod) if isinstance(a, ast.Assert)
                  for c in ast.walk(a.test) if isinstance(c, ast.comprehension)
                  for n in ast.walk(c.iter) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                  and n.id in tables and binds.get(n.id) == 1 and (loads.get(n.id) == 1 or not any(
                      isinstance(m, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp,
                                     ast.Call)) for e in ast.iter_child_nodes(tables[n.id]) for m in ast.walk(e)))]
    # (a table of lists read again, `assert all(f(x) == w for x, w in CASES)` then `for x, w in CASES: assert x
    # == w`: its items are objects the program may change in place, a sort in place, which a literal per read
    # undid; it stays the sandbox's, as written)
    for n in comp_reads:
        iters[n.id] = iters.get(n.id, 0) + 1
    clean = {t for t in tables if loads.get(t) == iters.get(t)}  # a table nothing else reads (or mutates)
    for stmt in (s for groups in bodies for group in groups for s in group):  # (a test function's copies too)
        for n in [n for a in ast.walk(stmt) if isinstance(a, ast.Assert) for c in ast.walk(a.test)
                  if isinstance(c, ast.comprehension) for n in ast.walk(c.iter)
                  if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in clean
                  and binds.get(n.id) == 1]:
            used[n.id] = used.get(n.id, 0) + 1
            value = copy.deepcopy(tables[n.id])
            n.__class__, n.__dict__ = value.__class__, value.__dict__  # (in place: the Name is a field of its parent)
    bound = _bound_names(modules)
    _bind_module_names(bodies, bound)
    collected = {id(d) for _, _, d in entries}
    defined = [s for groups in bodies for group in groups for s in group if isinstance(s, defs)]
    helpers = {s.name: s for s in defined if isinstance(s, ast.FunctionDef) and id(s) not in collected
               and not s.decorator_list and sum(d.name == s.name for d in defined) == 1
               and s.name not in stores and _inlinable(s)}
    for groups in bodies:
        module_scope = [s for group in groups for s in group]
        for si, group in enumerate(groups):
            groups[si] = _unroll_loops(group, module_scope, tables, clean, used, bound, helpers)
    # then a helper of the tests called with values written in them (`check(3, 6)`, as the loops above give)
    # is written out at each call (see _inline_calls); a helper no longer called otherwise is dropped
    sites: dict[str, list[ast.FunctionDef]] = {}
    copies = _call_copies([s for groups in bodies for group in groups for s in group], helpers, bound)
    for groups in bodies:
        for si, group in enumerate(groups):
            groups[si] = _inline_calls(group, helpers, copies, sites)
    left = {n.id for groups in bodies for group in groups for s in group for n in ast.walk(s)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    for groups in bodies:
        for si, group in enumerate(groups):
            out = []
            for stmt in group:
                made = sites.get(stmt.name, []) if stmt is helpers.get(getattr(stmt, "name", None)) else []
                if not made or stmt.name in left:
                    out.append(stmt)
                out.extend(made)  # defined where the helper is: the same globals, before any test runs
            groups[si] = out
    for name, n in used.items():
        if name in where and loads.get(name) == n:  # read by parametrize only: its expected values stay here
            mi, si = where[name]
            bodies[mi][si] = []
    # a test class's helper methods called with values written in the tests, alike (see _inline_methods)
    attrs: dict[str, int] = {}
    for node in (n for groups in bodies for group in groups for s in group for n in ast.walk(s)):
        if isinstance(node, ast.Attribute):
            attrs[node.attr] = attrs.get(node.attr, 0) + 1
    for stmt in (s for groups in bodies for group in groups for s in group):
        if isinstance(stmt, ast.ClassDef):
            _inline_methods(stmt, bound, attrs)
    # an exception test written with a flag is rewritten as the `try` form the caller decides (see _flag_try)
    rw = _AssertRewriter(0, bound, _imported_names(modules))
    for groups in bodies:
        found = _flag_tests([s for group in groups for s in group], rw)
        for si, group in enumerate(groups):
            groups[si] = _replace(group, found)
    return bodies, entries, None


def _statements(node: ast.stmt | list[ast.stmt]) -> list[ast.stmt]:
    return node if isinstance(node, list) else [node]


def _plan(tests) -> dict:
    """Normalise `tests` into a sandbox plan. Bad test data is the caller's bug: PonderError."""
    try:
        return _make_plan(tests)
    except RecursionError:  # (ast.parse, the rewriters and deepcopy recurse on a deeply nested expression)
        raise PonderError("code tests: an expression nested too deeply to plan (Python's recursion limit)") from None


@functools.lru_cache(maxsize=16)
def _plan_of_text(key: tuple) -> dict:
    return _plan(key[1] if key[0] == "str" else list(key[1]))


def _cached_plan(tests) -> dict:
    """`_plan(tests)`, kept for the last 16 assert texts: an RL step checks a prompt's G completions one after
    another against the same tests, and planning EvalPlus's table of a few hundred cases (each case's assert
    written out, twice) took ~1 s a check. A plan is a function of the text alone and nothing changes it once
    made (its trees are only read, as within one run, where several reports share one tree); 16, as one plan of
    a big table holds MBs. Stdio cases (dicts, cheap to plan) are planned each time."""
    if type(tests) is str:
        return _plan_of_text(("str", tests))
    if type(tests) is list and tests and all(type(t) is str for t in tests):
        return _plan_of_text(("list", tuple(tests)))
    return _plan(tests)


def _int_keys(d: dict) -> dict | None:
    # JSON keeps only string keys: APPS reads a dict argument or result back with int keys when every key is one
    # (keys given as Python values, a 1.5, are no JSON text to read back: kept)
    if not all(type(k) is str for k in d):
        return None
    try:
        return {int(k): v for k, v in d.items()}
    except (TypeError, ValueError):
        return None


def _hoist_walrus(modules: list[ast.Module]) -> None:
    """An `if` statement whose test evaluates a walrus first, `if (want := table[k]) is not None:` (its left
    operand, the first of an `and`/`or`, under a `not`), is the assignment `want = table[k]` then `if want is not
    None:`, rewritten so in place: a plain assignment of the value is one the caller may evaluate and bind into
    the code after it (see _bind_known), and an `if` on it one it decides (_fold_ifs), so in a written-out loop
    `want` stays here. Run as written, the sandbox held `want` (a program read it from the test's frame) and the
    `if`, on a value the caller does not evaluate, kept its loop as written."""
    def first(e: ast.expr) -> ast.expr:
        while True:
            if isinstance(e, ast.Compare) or isinstance(e, ast.BinOp):
                e = e.left
            elif isinstance(e, ast.BoolOp):
                e = e.values[0]
            elif isinstance(e, ast.UnaryOp):
                e = e.operand
            else:
                return e

    for block in [b for mod in modules for scope in [mod, *_scopes(mod.body)]
                  for b in _blocks(scope.body)]:
        k = 0
        while k < len(block):
            stmt = block[k]
            walrus = first(stmt.test) if isinstance(stmt, ast.If) else None
            if isinstance(walrus, ast.NamedExpr) and isinstance(walrus.target, ast.Name):
                name = walrus.target.id
                assign = ast.copy_location(ast.Assign(targets=[ast.Name(name, ast.Store())], value=walrus.value), stmt)
                walrus.__class__, walrus.__dict__ = ast.Name, {**walrus.__dict__, "id": name, "ctx": ast.Load()}
                for field in ("target", "value"):
                    walrus.__dict__.pop(field, None)
                block.insert(k, ast.fix_missing_locations(assign))
                k += 1
            k += 1


def _comprehension_walrus(modules: list[ast.Module], bound: set[str]) -> None:
    """A walrus in the item of a comprehension in an assert, `all((w := 2 * x) == f(x) for x in [1, 2])`, whose
    name nothing but that item reads, and nothing else binds, is its value, each read of the name after it in
    the item a copy of that value (only where the caller evaluates it: a value that runs nothing), in place:
    `all(2 * x == f(x) for x in [1, 2])`, whose `2 * x` the caller computes. Run as written, the sandbox
    computed the walrus before `f(x)` ran and held it where the program could read it (see _WalrusCell)."""
    comps = (ast.GeneratorExp, ast.ListComp, ast.SetComp)
    found = [c for mod in modules for a in ast.walk(mod) if isinstance(a, ast.Assert)
             for c in ast.walk(a.test) if isinstance(c, comps) and any(isinstance(n, ast.NamedExpr)
                                                                       for n in ast.walk(c.elt))]
    if not found:
        return
    binds = _binding_counts(modules)
    loads: dict[str, int] = {}
    for n in (n for mod in modules for n in ast.walk(mod)):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
            loads[n.id] = loads.get(n.id, 0) + 1
    for comp in found:
        own = frozenset(n.id for g in comp.generators for n in ast.walk(g.target) if isinstance(n, ast.Name))
        for w in [n for n in ast.walk(comp.elt) if isinstance(n, ast.NamedExpr) and isinstance(n.target, ast.Name)]:
            name = w.target.id
            reads = _reads([comp.elt], name)
            if binds.get(name) != 1 or loads.get(name, 0) != reads or name in own or any(
                    isinstance(n, ast.NamedExpr) for n in ast.walk(w.value)):
                continue
            if reads and _caller_tree(w.value, bound, own) is None:
                continue
            elt = copy.deepcopy(comp.elt)
            at = next(k for k, n in enumerate(ast.walk(comp.elt)) if n is w)
            elt = _CallerWalrus([list(ast.walk(elt))[at]]).visit(elt)
            if _reads([elt], name):  # a read before it (in an operand evaluated first): as written
                continue
            comp.elt = ast.fix_missing_locations(elt)


def _counted_whiles(modules: list[ast.Module], bound: set[str]) -> None:
    """A `while` loop of the tests that counts through a table, `i = 0` then `while i < len(cases):` (or `i <
    3`, `<=`) with `i += 1` its body's last statement, is the `for i in range(len(cases)):` loop it runs as,
    rewritten so in place: where the caller knows the items, that loop is written out (see _unroll), so each
    iteration's asserts are tests to be reported and `cases` may stay here. Run as written, the sandbox held
    the table (a program read its expected values from the test's frame) and the assert was one test reported
    once per iteration (a program that forged the end of the run after the first passed the rest). Only where
    the two loops are the same: `i` bound by nothing else in its scope (a function, or the modules) and read
    nowhere but in the loop (the `for` leaves it one less), by no closure; `i` set by the statement before
    that touches it to an int written in the tests; no `continue` (the `while` would never count on); the
    table read in the loop only by item and bound nowhere in it, so its length is what the range took."""
    if "range" in bound:
        return
    scopes: list[tuple[list[ast.stmt], list[ast.AST]]] = [(mod.body, modules) for mod in modules]
    scopes += [(fn.body, [fn]) for mod in modules for fn in ast.walk(mod)
               if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for body, nodes in scopes:
        for block in _blocks(body):
            for k, stmt in enumerate(block):
                if isinstance(stmt, ast.While):
                    loop = _while_as_for(block, k, nodes, bound, modules)
                    if loop is not None:
                        block[k] = ast.fix_missing_locations(ast.copy_location(loop, stmt))


def _while_as_for(block: list[ast.stmt], k: int, nodes: list[ast.AST], bound: set[str],
                  modules: list[ast.Module]) -> ast.For | None:
    """The `for` loop that the counting `while` loop `block[k]` is (see _counted_whiles), or None. The table
    must be read, in its scope (anywhere in the tests, for a module's), only by item, as what a loop iterates, by
    `len` and builtins that only read it, or by a decorator (parametrize's table): an alias
    (`more = cases`, `more.append(...)` in the loop) or a function of the tests (`grow()` appending to `CASES`)
    could lengthen it while the `while` runs, which re-reads its length where `range` read it once (what a
    function does with its own table after such a loop at the top of its body runs after it)."""
    w = block[k]
    t = w.test
    if not (isinstance(t, ast.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], (ast.Lt, ast.LtE))
            and isinstance(t.left, ast.Name) and len(w.body) >= 2):
        return None
    i, end = t.left.id, t.comparators[0]
    table = None
    if (isinstance(end, ast.Call) and isinstance(end.func, ast.Name) and end.func.id == "len" and "len" not in bound
            and len(end.args) == 1 and not end.keywords and isinstance(end.args[0], ast.Name)):
        table = end.args[0].id
    elif not (isinstance(end, ast.Constant) and type(end.value) is int):
        return None
    *body, last = w.body
    one = ast.Constant(1)
    step = ast.dump(ast.AugAssign(ast.Name(i, ast.Store()), ast.Add(), one))
    if not (ast.dump(last) == step or ast.dump(last) == ast.dump(ast.Assign(
            [ast.Name(i, ast.Store())], ast.BinOp(ast.Name(i, ast.Load()), ast.Add(), one)))):
        return None
    inner = [n for s in body for n in ast.walk(s)]
    if (table == i or _exits(body, (ast.Continue,)) or i in _late_reads(body)
            or any(isinstance(n, ast.Name) and n.id in (i, table) and not isinstance(n.ctx, ast.Load) for n in inner)):
        return None
    if table is not None:  # read by item only: nothing in the loop changes its length
        items = {id(n.value) for n in inner if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Load)}
        if any(isinstance(n, ast.Name) and n.id == table and id(n) not in items for n in inner):
            return None
        scope = [n for x in nodes for n in ast.walk(x)]
        local = nodes is not modules and any(
            isinstance(n, ast.Name) and n.id == table and isinstance(n.ctx, ast.Store) or isinstance(n, ast.arg)
            and n.arg == table for n in scope) and not any(
            isinstance(n, (ast.Global, ast.Nonlocal)) and table in n.names for n in scope)
        if local and block is getattr(nodes[0], "body", None):  # (what the function does after the loop, after)
            later = {id(n) for s in block[k + 1:] for n in ast.walk(s)}
            scope = [n for n in scope if id(n) not in later]
        scope = scope if local else [n for mod in modules for n in ast.walk(mod)]
        # (read by item, iterated, or given to a builtin that only reads it, or to a decorator: parametrize's)
        items |= {id(n.value) for n in scope if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Load)}
        items |= {id(n.iter) for n in scope if isinstance(n, (ast.For, ast.comprehension))}
        items |= {id(a) for n in scope if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in (
            "len", "zip", "enumerate", "sorted", "list", "tuple", "reversed") and n.func.id not in bound
            for a in n.args}
        items |= {id(a) for n in scope if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                  for d in n.decorator_list for a in ast.walk(d)}
        if any(isinstance(n, ast.Name) and n.id == table and isinstance(n.ctx, ast.Load) and id(n) not in items
               for n in scope):
            return None
    init = next((s for s in reversed(block[:k]) if any(isinstance(n, ast.Name) and n.id == i for n in ast.walk(s))),
                None)
    if not (isinstance(init, ast.Assign) and len(init.targets) == 1 and isinstance(init.targets[0], ast.Name)
            and isinstance(init.value, ast.Constant) and type(init.value.value) is int):
        return None
    everywhere = [n for x in nodes for n in ast.walk(x)]
    if (_binding_counts(nodes).get(i) != 2 or any(isinstance(n, (ast.Global, ast.Nonlocal)) and i in n.names
                                                  for n in everywhere)
            or _reads(nodes, i) != 1 + _reads(w.body, i)):
        return None
    stop = copy.deepcopy(end) if isinstance(t.ops[0], ast.Lt) else ast.BinOp(copy.deepcopy(end), ast.Add(), one)
    start = init.value.value
    args = [stop] if start == 0 else [ast.Constant(start), stop]
    return ast.For(target=ast.Name(i, ast.Store()), iter=ast.Call(ast.Name("range", ast.Load()), args, []),
                   body=body, orelse=w.orelse, type_comment=None)


def _else_after_return(modules: list[ast.Module]) -> None:
    """`try: f(-1)` / `except ValueError: return` / `assert False` is the `else: assert False` form visit_Try
    decides (the assert runs exactly when the body ended normally, its exceptions caught by no handler): moved
    under `else:` in place. As written, a correct program left the assert unreached and unreported, and failed."""
    for node in [n for mod in modules for n in ast.walk(mod)]:
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if not isinstance(block, list):
                continue
            for i in range(len(block) - 1, 0, -1):
                t, s = block[i - 1], block[i]
                if (isinstance(t, ast.Try) and t.handlers and not t.orelse and not t.finalbody
                        and all(isinstance(h.body[-1], (ast.Return, ast.Continue, ast.Break)) for h in t.handlers)
                        and isinstance(s, ast.Assert) and _literal(s.test)[0] and not _literal(s.test)[1]):
                    t.orelse = [block.pop(i)]


# what finds a function by its name as text, not as code: `globals()[n]`, `sys.modules[__name__].f`, `eval("f()")`
_LOOKUPS = frozenset({"globals", "locals", "vars", "eval", "exec", "getattr", "__import__", "modules", "__dict__",
                      "getmembers", "import_module"})


def _uncalled_checks(modules: list[ast.Module]) -> str | None:
    """The name of a top-level function of the tests that holds asserts and that nothing runs: no test, fixture
    or hook pytest would call, its name read nowhere (HumanEval's `check`, whose call its harness appends). Its
    asserts would go unreported, failing every program. Tests that look functions up by name at run time
    (globals(), sys.modules, inspect, eval) may call any: none is refused then."""
    if any(isinstance(n, ast.Name) and n.id in _LOOKUPS or isinstance(n, ast.Attribute) and n.attr in _LOOKUPS
           for mod in modules for n in ast.walk(mod)):
        return None
    used = _used_names(modules)
    texts = {n.value for mod in modules for n in ast.walk(mod) if isinstance(n, ast.Constant)}  # globals()['f']
    for mod in modules:
        for stmt in mod.body:
            if (isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and not stmt.decorator_list
                    and not stmt.name.startswith("test") and stmt.name not in used and stmt.name not in texts
                    and stmt.name not in _SETUP_NAMES and stmt.name not in ("setUpModule", "tearDownModule")
                    and any(isinstance(n, ast.Assert) for n in ast.walk(stmt))):
                return stmt.name
    return None


def _call_based(tests: dict) -> str:
    """APPS/TACO's call-based problems (`{"fn_name": "f", "inputs": [[args], ...], "outputs": [result, ...]}`) as
    the asserts they stand for: the function, or the method of the program's `class Solution` that has it,
    LeetCode-style, called with each case's arguments, its result compared as APPS compares it (a tuple as a list; an output
    written as `[result]` matches `result` too, while a longer list is the result itself; a dict first argument or
    result whose keys all read as ints has int keys, as APPS restores the keys JSON made strings). The results stay
    in the caller, as any literal expected value."""
    fn, ins, outs = tests["fn_name"], tests["inputs"], tests["outputs"]
    if not fn.isidentifier() or keyword.iskeyword(fn):
        raise PonderError(f"code tests: 'fn_name' must be a function's name, got {fn!r:.40}")
    if not isinstance(ins, list) or not isinstance(outs, list) or len(ins) != len(outs):
        raise PonderError("code tests: 'inputs' and 'outputs' must be lists of equal length")
    # (a `class Solution` of the program's without that method, a helper, leaves the function)
    call = f"(Solution().{fn} if isinstance(globals().get('Solution'), type) and hasattr(Solution, {fn!r}) else {fn})"
    lines = []
    for k, (args, out) in enumerate(zip(ins, outs)):
        if not isinstance(args, list):
            raise PonderError(f"code tests: case {k + 1}: the inputs of a call-based problem must be a list of "
                              f"arguments, got {type(args).__name__} {args!r:.40}")
        # (APPS keeps only the dict of such inputs, "assuming a singleton list"; other arguments are kept here)
        if args and isinstance(args[0], dict) and _int_keys(args[0]) is not None:
            args = [_int_keys(args[0]), *args[1:]]
        if isinstance(out, dict) and _int_keys(out) is not None:
            out = [_int_keys(out)]
        # (only a one-element list is APPS's wrapper: its `outputs[i][0]` also took the first item of a longer
        # list, the result itself, so `[1, 2, 3]` accepted 1)
        wrapped = isinstance(out, list) and len(out) == 1
        if wrapped and isinstance(out[0], dict) and _int_keys(out[0]) is not None:
            out = [_int_keys(out[0])]
        targets = [out] + (out[:1] if wrapped else [])
        alts = [a for t in targets for a in ([t, tuple(t)] if isinstance(t, list) else [t])]
        first = out[0] if wrapped else None
        if isinstance(first, list) and first and all(isinstance(x, list) for x in first):
            # APPS also compares `[list(x) for x in result]` with it: JSON has no tuples, so a result that is a
            # list of tuples (`[('a', 1)]` for `[['a', 1]]`) matches, as there
            inner = [tuple(x) for x in first]
            alts += [inner, tuple(inner)]
        try:
            args_src, alts_src = ast.unparse(_value_ast(args)), ast.unparse(_value_ast(tuple(alts)))
        except (ValueError, RecursionError):
            raise PonderError(f"code tests: case {k + 1}: inputs and outputs must be plain data") from None
        lines.append(f"assert {call}(*{args_src}) in {alts_src}")
    return "\n".join(lines) or "pass"


def _apps_text(x):
    # an APPS stdio case written as a list of lines is those lines joined, as APPS's own testing_util reads it
    # (some of its problems are stored so: they were refused as not strings)
    return "\n".join(x) if isinstance(x, list) and all(isinstance(s, str) for s in x) else x


def _json_tests(tests):
    """`tests` given as JSON text of a dict or a list (APPS/TACO's `input_output` column, '{"inputs": [...],
    "outputs": [...]}'; a list of asserts saved as a string, '["assert f(1) == 2"]') as that dict or list; any
    other text as it is (Python source). No test module is such JSON: read as Python, it held no assert."""
    if not isinstance(tests, str) or tests.lstrip()[:1] not in ("{", "["):
        return tests
    try:
        value = json.loads(tests)
    except (ValueError, RecursionError):
        return tests
    return value if isinstance(value, (dict, list)) else tests


def _make_plan(tests) -> dict:
    tests = _json_tests(tests)
    if (isinstance(tests, dict) and isinstance(tests.get("fn_name"), str) and tests["fn_name"]  # (stdio: absent, "")
            and "inputs" in tests and "outputs" in tests):
        tests = _call_based(tests)
    if isinstance(tests, dict) and "inputs" in tests and "outputs" in tests:  # APPS-style columns
        ins, outs = tests["inputs"], tests["outputs"]
        if not isinstance(ins, list) or not isinstance(outs, list) or len(ins) != len(outs):
            raise PonderError("code tests: 'inputs' and 'outputs' must be lists of equal length")
        tests = [{"input": _apps_text(i), "output": _apps_text(o)} for i, o in zip(ins, outs)]
    if isinstance(tests, list) and tests and all(isinstance(t, dict) for t in tests):
        cases = []
        for k, t in enumerate(tests):
            if t.get("testtype") == "functional":
                # LiveCodeBench's call-based case: its input is the call's arguments (JSON lines), not standard
                # input; run as stdio, a correct `class Solution` printed nothing and failed every case
                raise PonderError(f"code tests: case {k + 1} is a LiveCodeBench functional case (testtype "
                                  f"'functional'), not stdin/stdout: pass {{'fn_name': ..., 'inputs': [[args], ...], "
                                  f"'outputs': [...]}} instead")
            for key in ("input", "output"):
                if key not in t:
                    raise PonderError(f"code tests: case {k + 1} needs string 'input' and 'output', "
                                      f"got keys {sorted(t)}")
                if not isinstance(t[key], str):  # (the keys are there: naming them hid the wrong value's type)
                    raise PonderError(f"code tests: case {k + 1}: {key!r} must be a string (the program's "
                                      f"standard {'input' if key == 'input' else 'output'} text), "
                                      f"got {type(t[key]).__name__} {t[key]!r:.40}")
            cases.append(t)
        return {"mode": "stdio", "cases": cases}
    if isinstance(tests, str):
        chunks = [tests]
    elif isinstance(tests, list) and tests and all(isinstance(t, str) for t in tests):
        chunks = tests
    else:
        # (a bare "got list" named a type that is allowed: say what the list holds)
        got = (("an empty list" if not tests else "a list holding " + ", ".join(sorted({type(t).__name__ for t in tests})))
               if isinstance(tests, list) else type(tests).__name__)
        raise PonderError(f"code tests: expected assert source (str or list of str) or a list of "
                          f"{{'input','output'}} cases, got {got}")
    modules = []
    for k, chunk in enumerate(chunks):
        try:
            modules.append(parse_python(chunk))
        except SyntaxError as e:
            raise PonderError(f"code tests: test {k + 1} is not valid Python ({e.msg}, line {e.lineno})") from None
    modules = _canonical_imports([_DropStrings().visit(mod) for mod in modules])
    fail_ifs = _FailIfs(modules)
    modules = [ast.fix_missing_locations(fail_ifs.visit(mod)) for mod in modules]
    drop_prints = _DropPrints(modules)
    modules = [ast.fix_missing_locations(drop_prints.visit(mod)) for mod in modules]
    _evalplus_asserts(modules)
    _inline_predicates(modules)
    bound = _bound_names(modules)
    if "numpy" not in bound:
        modules = [ast.fix_missing_locations(_NumpyAsserts().visit(mod)) for mod in modules]
    _else_after_return(modules)
    kinds = {type(n) for mod in modules for n in ast.walk(mod)}  # (what the passes below rewrite, or none)
    if ast.NamedExpr in kinds:
        _hoist_walrus(modules)
        _comprehension_walrus(modules, bound)
    if ast.While in kinds:
        _counted_whiles(modules, bound)
    uncalled = _uncalled_checks(modules)
    if uncalled:
        raise PonderError(f"code tests: function {uncalled!r} holds asserts but the tests never call it (a call "
                          f"under `if __name__ == '__main__':` does not run), so no program could pass: HumanEval's "
                          f"test needs `{uncalled}(<entry_point>)` after it")
    imports = _imported_names(modules)
    bodies, entries, unsupported = _collect_tests(modules)
    if unsupported:
        return {"mode": "assert", "stmts": [], "trees": [], "unsupported": unsupported}
    outs: list[list[ast.stmt]] = []
    trees: list = []
    spans: dict[int, range] = {}
    optional: set[int] = set()
    alternatives: list[tuple[range, range]] = []
    handler_asserts: set[int] = set()  # part of the exception test just before them (see _raise_check)
    entered: dict[int, list] = {}  # the exception tests with several handlers (see _AssertRewriter._handlers)
    for body in bodies:
        rw = _AssertRewriter(len(trees), bound, imports)
        # a statement may become several (an exception test on a class of the program's: see _raise_check)
        outs.extend([s for stmt in group for s in _statements(rw.visit(stmt))] for group in body)
        trees.extend(rw.trees)
        spans.update(rw.spans)
        optional |= rw.optional
        handler_asserts |= rw.handler_asserts
        alternatives += rw.alternatives
        entered.update(rw.entered)
        if rw.unsupported:
            return {"mode": "assert", "stmts": [], "trees": [], "unsupported": rw.unsupported}
    # `import pytest` with nothing of pytest's left to run in the sandbox (its marks were taken apart here,
    # its raises rewritten) is dropped: where the sandbox cannot import pytest, it would fail every program
    if not any(isinstance(n, ast.Name) and n.id == "pytest"
               for group in outs for stmt in group for n in ast.walk(stmt)):
        outs = [[] if [ast.dump(s) for s in group] == [ast.dump(ast.Import([ast.alias("pytest")]))] else group
                for group in outs]
    stmts = [ast.unparse(ast.fix_missing_locations(ast.Module(body=group or [ast.Pass()], type_ignores=[])))
             for group in outs]
    if not trees:
        raise PonderError("code tests: no assert statements found (a test that cannot fail checks nothing)")
    # Each collected test function call is one test, made of the asserts in its body; every other assert is one
    # test of its own, as before. A function with no assert is called but is no test: its returning is nothing
    # the caller could tell from a program that exits early and forges the end, so only its exception counts.
    calls: dict[int, str] = {}  # statement index -> the collected function it calls
    owner: dict[int, int] = {}  # tree index -> statement index of the call of its function
    hooks: list[int] = []  # statement indices of setUpClass/setUpModule... calls: no tests of their own
    for label, src, node in entries:
        if node is None:
            hooks.append(len(stmts))
        for i in spans[id(node)] if node is not None else ():
            owner[i] = len(stmts)
        calls[len(stmts)] = label
        stmts.append(src)
    units: list = []
    pending: list[int] = []  # asserts in the body of a top-level exception test: part of that test
    for i in range(len(trees)):
        k = owner.get(i)
        if k is None and i in handler_asserts:
            units[-1][1].append(i)
        elif k is None and i in optional:
            pending.append(i)
        elif k is None:
            units.append((None, [*pending, i], None))
            pending = []
        elif not units or units[-1][2] != k:
            units.append((calls[k], [j for j in range(len(trees)) if owner.get(j) == k], k))
    return {"mode": "assert", "stmts": stmts, "trees": trees, "units": units, "calls": calls, "hooks": hooks,
            "optional": optional, "entered": entered, "alternatives": alternatives}


def _over_memory(run: dict, records: list, memory_mb: int) -> str | None:
    """The reason for a run that ended over its memory limit, or None: the harness's RSS watcher killed it, or it
    crashed with a MemoryError (RLIMIT_AS refused an allocation) after its resident memory peaked at half the
    limit or more. The peak is the kernel's (wait4's ru_maxrss, read by the harness), which the program can raise
    only by holding that memory; a program that only says "MemoryError" is still "crashed". (A single request past
    the limit, `bytearray(10**10)`, leaves no such trace: "crashed" too.)"""
    reason = f"memory limit exceeded ({memory_mb} MiB)"
    if run.get("memory"):
        return reason
    peak = run.get("peak_kib")
    said = "MemoryError" in (run.get("stderr") or "") or any(
        isinstance(r.get("crash"), str) and r["crash"].startswith("MemoryError") for r in records)
    if said and type(peak) is int and 2 * (peak << 10) >= memory_mb << 20:
        return reason
    return None


def _judge_asserts(plan: dict, run: dict, code: str, memory_mb: int = MEMORY_MB) -> Verdict:
    if run["timeout"]:
        return Verdict(False, code, "timeout")
    if run["status"] == VIOLATION_EXIT and "ponder-sandbox-violation" in run["stderr"]:
        return Verdict(False, code, "sandbox violation")
    # decided before the report is read: decoding a capped report line by line (16 MiB of `{}` lines a program
    # wrote to fd 3) held the caller ~40 s for a verdict that does not depend on it
    if run["overflow"]:
        return Verdict(False, code, "output limit exceeded")
    records = []
    for line in (run["report"] or "").split("\n"):  # (the harness counts "\n"; splitlines() splits on "\x1c" too)
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError):  # the program can write to fd 3 too: "[" * 10**5 must not raise
            continue
        if isinstance(rec, dict):
            records.append(rec)
    if run.get("memory"):  # killed whatever it had reported so far
        return Verdict(False, code, _over_memory(run, records, memory_mb))
    if any("crash" in r for r in records) or not any(r.get("done") is True for r in records):
        return Verdict(False, code, _over_memory(run, records, memory_mb) or "crashed")
    n = len(plan["trees"])
    seen = [0] * n
    ok = [True] * n
    evaluator = _Evaluator()  # one work budget for the whole run
    entered = plan.get("entered", {})
    required: set[int] = set()  # asserts of the handler an exception entered, of several (see _entered_handler)
    kept: list = []  # the big records the sandbox sent once (its check's "k"), with their sizes
    for r in records:
        i = r.get("t")
        if type(i) is not int or not 0 <= i < n or not isinstance(r.get("v"), list):
            continue
        seen[i] += 1
        try:
            values = _with_pieces(_kept_records(r, kept, evaluator), r.get("g"))
            passed = evaluator.judge(plan["trees"][i], values)
            ok[i] = ok[i] and passed
            if passed and i in entered:
                required.update(_entered_handler(entered[i], evaluator.eval(plan["trees"][i][1], values)))
        except (_TestFailed, RecursionError):
            ok[i] = False
    # A test must be reported: a program that ends the run early (forging the "done" record) must not pass the
    # asserts it skipped. The exception: an assert with nothing from the sandbox in it (`assert False` after a
    # call that must raise, in a form visit_Try does not rewrite: `except socket.timeout: pass`) reports nothing
    # a program could forge, and unreached it has passed as Python runs it; it counts once some assert with a
    # value was reported.
    anchored = any(s > 0 and _reads_sandbox(t) for s, t in zip(seen, plan["trees"]))
    # An assert in the body of an exception test is left unreached when the body raised first, as Python runs it
    # (the raise check, which must be reported, decides that test).
    optional = plan.get("optional", ())
    # an assert of one branch of an `if` the caller cannot decide is unreached when the other branch ran (one of
    # its asserts reported), as Python leaves it (see _AssertRewriter.visit_If)
    other = collections.defaultdict(list)
    for a, b in plan.get("alternatives", ()):
        for i in a:
            other[i].append(b)
        for i in b:
            other[i].append(a)
    passed = [o and (s > 0 or (i in optional and i not in required) or (anchored and not _reads_sandbox(t))
                     or any(seen[j] > 0 for r in other.get(i, ()) for j in r))
              for i, (s, o, t) in enumerate(zip(seen, ok, plan["trees"]))]
    # a statement of the tests raised (`x = f(0)` when f(0) raises, or a bug in the tests): which one, not whose
    # fault; the error text stays out of the reason, which the program could fill with anything
    bad = sorted(r["stmt"] for r in records if type(r.get("stmt")) is int)
    calls = plan.get("calls", {})
    # a setUpClass/setUpModule (or tearDown...) that raised is named before the tests it left unprepared
    for k in bad:
        if k in plan.get("hooks", ()):
            return Verdict(False, code, f"error in {calls[k]}")
    # a test function passes only if every assert in it passed and its call raised nothing
    units = plan.get("units") or [(None, [i], None) for i in range(n)]
    for k, (label, members, stmt) in enumerate(units):
        if not all(passed[i] for i in members) or (stmt is not None and stmt in bad):
            return Verdict(False, code, f"failed test {k + 1}" + (f" ({label})" if label else ""))
    if bad or any("stmt" in r for r in records):
        if bad and bad[0] in calls:  # a collected function with no assert raised
            return Verdict(False, code, f"error in {calls[bad[0]]}")
        return Verdict(False, code, f"error in test statement {bad[0] + 1}" if bad else "error in test code")
    return Verdict(True, code, f"passed {len(units)}/{len(units)}")


def _kept_records(report: dict, kept: list, evaluator: _Evaluator) -> list:
    """A report's records with each ["same", k] the big record k the sandbox sent before (see its check), charged its
    size to the run's work (a line of a few bytes stands for it); the records its "k" marks kept as the next ones."""
    values, keep = list(report["v"]), report.get("k")
    keep = set(keep) if isinstance(keep, list) and all(type(j) is int for j in keep) else ()
    for j, rec in enumerate(values):
        if isinstance(rec, list) and len(rec) == 2 and rec[0] == "same":
            k = rec[1]
            if type(k) is not int or not 0 <= k < len(kept):
                raise _TestFailed("missing value")
            evaluator.spend(kept[k][1])
            values[j] = rec = kept[k][0]
        if j in keep:
            kept.append((rec, _deep_len(rec, _MAX_WORK) + 1))
    return values


def _entered_handler(handlers: list, report: list) -> range:
    """The asserts of the handler, of several (see _AssertRewriter._handlers), that `except` enters for an
    exception the sandbox reported as `report` (see the harness's `raised`, a check that passed): the first
    that names a builtin class the exception is one of, or a class of the program's whose hit is true. The
    sandbox, which runs the handlers as written, enters the same one unless the program rebound their names,
    and then these asserts go unreported: it fails."""
    names, _, hits = report
    names = [n for n in names if type(n) is str]  # the report is the program's to forge: anything may be there
    for classes, own, asserts in handlers:
        if any(n in classes for n in names) or any(hits[j] is True for j in own):
            return asserts
    return range(0)


def _reads_sandbox(tree) -> bool:
    """Whether a caller-side assert tree holds a value the sandbox reports: a ("leaf", i) node, a test table read
    inside a comprehension (("top", i)) or a comprehension's items (a "comp" node): `all(x in result for x in
    [1, 2, 3])` has no leaf, yet it checks the program's `result` and must not go unreached."""
    if isinstance(tree, tuple) and ((len(tree) == 2 and tree[0] in ("leaf", "top"))
                                    or (len(tree) == 5 and tree[0] == "comp")):
        return True
    return isinstance(tree, (tuple, list)) and any(_reads_sandbox(x) for x in tree)


# a real-number literal, with a decimal point or an exponent (an integer answer stays exact)
_REAL = re.compile(r"[+-]?(?:(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)")
# what a program's token may be to compare as a number: a literal as checkers read it (float() also takes "1_0",
# " 1", "١" and "infinity")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _line_tokens(normalised: str) -> list:
    # a line break is a token of its own, so that lines of tokens match only line for line, as the digest
    return normalised.replace("\n", " \n ").split(" ") if normalised else []


def _tokens_match(expected: str, got, tol: float) -> bool:
    """Whether the program's output `got` (the harness's normalised text, lines of tokens one space apart; None
    when it sent none) matches `expected` token by token, as the module docstring says: the same lines of as many
    tokens, each the same text, or, where the expected one is a real-number literal, a finite number within `tol`
    of it, absolute or relative (|a - b| <= tol * max(1, |b|)). An expected output with no real number in it is
    left to the digest."""
    if tol <= 0 or type(got) is not str or len(expected) > MAX_STDOUT_BYTES:
        return False
    theirs = _line_tokens(got)
    if len(theirs) > MAX_TOKENS:
        return False
    kept: list = []
    _output_digest(expected, kept)
    ours = _line_tokens(b"".join(kept).decode("utf-8", "surrogatepass"))
    if len(ours) != len(theirs) or not any(len(e) <= MAX_NUMBER_CHARS and _REAL.fullmatch(e) for e in ours):
        return False
    for e, g in zip(ours, theirs):
        if e == g:
            continue
        if (len(e) > MAX_NUMBER_CHARS or len(g) > MAX_NUMBER_CHARS or not _REAL.fullmatch(e)
                or not _NUMBER.fullmatch(g)):
            return False
        a, b = float(g), float(e)
        if not (math.isfinite(a) and math.isfinite(b)) or not abs(a - b) <= tol * max(1.0, abs(b)):
            return False
    return True


def _judge_stdio(plan: dict, runs: list, code: str, float_tol: float = FLOAT_TOL,
                 memory_mb: int = MEMORY_MB) -> Verdict:
    n = len(plan["cases"])
    for k, case in enumerate(plan["cases"]):
        if k >= len(runs):
            return Verdict(False, code, f"failed test {k + 1}")
        run = runs[k]
        if run["timeout"]:
            return Verdict(False, code, "timeout")
        if run["status"] == VIOLATION_EXIT and "ponder-sandbox-violation" in run["stderr"]:
            return Verdict(False, code, "sandbox violation")
        if run["overflow"]:  # past the fixed MAX_STDOUT_BYTES, which says nothing of the expected output
            return Verdict(False, code, "output limit exceeded")
        if run.get("memory"):
            return Verdict(False, code, _over_memory(run, [], memory_mb))
        if run["status"] != 0:
            return Verdict(False, code, _over_memory(run, [], memory_mb) or "crashed")
        expected = case["output"]
        # output may be padded with whitespace (normalised away), but not flooded
        limit = 2 * len(expected.encode("utf-8", "replace")) + 65536
        size, tokens = run.get("stdout_bytes"), run.get("stdout_tokens")
        exact = run.get("stdout_digest") == _output_digest(expected)
        if not exact and type(tokens) is str:
            # within the tolerance a number may be written longer than the expected one ("0.5000000000" for
            # "0.5"): padding is measured against the program's own tokens too, or a long real-valued answer failed
            limit = max(limit, 2 * len(tokens.encode("utf-8", "replace")) + 65536)
        if type(size) is not int or size > limit:
            return Verdict(False, code, f"failed test {k + 1}")
        # the digest decides an exact match; only output that differs is compared token by token
        if not exact and not _tokens_match(expected, tokens, float_tol):
            return Verdict(False, code, f"failed test {k + 1}")
    return Verdict(True, code, f"passed {n}/{n}")


# ---------------------------------------------------------------- running

def _sandbox_uid() -> int:
    # a fresh uid per run: no other process has it, so RLIMIT_NPROC and the uid-wide kill touch only this run
    return secrets.randbelow(1 << 29) + (1 << 20)


def _run_plan(code: str, plan: dict, *, timeout: float, iso: dict, memory_mb: int,
              float_tol: float = FLOAT_TOL) -> Verdict:
    if plan.get("unsupported"):  # pytest-style tests that use what the verifier cannot run (a fixture...)
        return Verdict(False, code, plan["unsupported"])
    nonce = secrets.token_hex(16)
    uid = _sandbox_uid() if iso["uid_drop"] else None
    try:
        workdir = tempfile.mkdtemp(prefix="ponder-sbx-")
    except OSError as e:  # a full disk, a read-only /tmp: as a failed start below
        return _no_start(code, e)
    if plan["mode"] == "stdio":
        # the inputs only: nothing derived from an expected output (not even its length) enters the sandbox
        cases = [{"input": c["input"]} for c in plan["cases"]]
    else:
        cases = [{"input": None}]
    # without a uid of its own the audit fence refuses fork: root is exempt from RLIMIT_NPROC, and a forked
    # process that left the run's session (setsid) outlived the verdict, as nothing kills it by uid
    nofork = iso["audit"] and uid is None
    spec = {"nonce": nonce, "mode": plan["mode"], "code": code, "stmts": plan.get("stmts", []), "cases": cases,
            "timeout": float(timeout), "cpu": int(timeout) + 1, "mem": int(memory_mb) << 20,
            # RLIMIT_NPROC counts every process and thread of the uid: with the caller's uid, a trainer's own 32
            # threads made every program that starts a thread crash; with fork refused, RLIMIT_AS bounds threads
            "nproc": None if nofork else NPROC,
            "fsize": FSIZE_MB << 20, "tmpfs": TMPFS_MB << 20, "uid": uid, "pidns": iso["pidns"], "audit": iso["audit"],
            "nofork": nofork,
            "report_cap": MAX_REPORT_BYTES, "report_lines": MAX_REPORT_LINES, "stdout_cap": MAX_STDOUT_BYTES, "cwd": workdir,
            # (the caller's setting, the same for every case: no bound of it comes from an expected output)
            "tokens_cap": MAX_TOKENS_BYTES if float_tol > 0 and plan["mode"] == "stdio" else -1,
            "tokens_left": MAX_TOKENS_RUN_BYTES, "site": _site_dirs()}
    harness = _harness_bytecode()
    payload = harness + json.dumps(spec).encode()
    # the caller's own deadline only matters if the harness itself wedges (e.g. a starved machine)
    wall = (float(timeout) + 1.0) * len(cases) + 30.0
    proc = None
    try:
        if uid is not None:
            os.chown(workdir, uid, uid)
        cmd = [*_parent_death_prefix(), *iso["prefix"], sys.executable, "-I", "-S", "-X", "utf8", "-c",
               _BOOT.format(n=len(harness))]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={}, cwd=workdir, start_new_session=True, close_fds=True)
        try:
            out, err = proc.communicate(payload, timeout=wall)
        except subprocess.TimeoutExpired:
            return Verdict(False, code, "timeout")
    except OSError as e:
        if proc is not None:  # (it started: not a failed start)
            raise
        return _no_start(code, e)
    finally:
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    try:
        result = json.loads(out)
        assert result["nonce"] == nonce and isinstance(result["runs"], list) and result["runs"]
    except Exception:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
        return Verdict(False, code, f"sandbox error: {tail[0][:200]}")
    if plan["mode"] == "stdio":
        return _judge_stdio(plan, result["runs"], code, float_tol, memory_mb)
    return _judge_asserts(plan, result["runs"][0], code, memory_mb)


# The sandbox's first lines: read the harness, compiled once by the caller, off stdin ahead of the run's spec.
# Compiling its ~50 KB of source took ~30 ms of every sandbox's start (-c); marshal data is read by the same
# interpreter that wrote it (sys.executable), so its format always matches.
_BOOT = ("import marshal, os\nb = b''\nwhile len(b) < {n}:\n    c = os.read(0, {n} - len(b))\n    if not c:\n"
         "        raise SystemExit('ponder harness: stdin ended early')\n    b += c\nexec(marshal.loads(b))\n")


@functools.cache
def _site_dirs() -> list[str]:
    """This interpreter's site-packages directories as its own site module found them (a venv's, and the base's
    where the venv includes them: Python 3.10's sandbox under -S would see only the base's)."""
    import site

    dirs = site.getsitepackages() if hasattr(site, "getsitepackages") else []
    return [d for d in dirs if os.path.isdir(d)]


@functools.cache
def _harness_bytecode() -> bytes:
    return marshal.dumps(compile(_HARNESS, "<ponder-harness>", "exec"))


_NO_START = "sandbox error: could not start the sandbox"


def _no_start(code: str, e: OSError) -> Verdict:
    """The verdict of a run whose sandbox could not start (fork refused for want of processes or memory, the
    interpreter or `unshare` gone, a full disk): a failure of the machine, not of the program. Raising it ended a
    long RL run at one transient failure; it is a verdict, said on stderr too, so that it is not taken silently
    for a wrong program."""
    why = f"{_NO_START}: {e.strerror or type(e).__name__}"
    print(f"ponder: code sandbox: {why[len('sandbox error: '):]}; the program is scored incorrect", file=sys.stderr)
    return Verdict(False, code, why)


@functools.cache
def _parent_death_prefix() -> tuple[str, ...]:
    """`setpriv --pdeathsig KILL --` (util-linux, beside unshare) where it is there: the sandbox is killed when the
    process that started it dies. A scoring worker SIGKILLed at Ctrl-C or by the OOM killer left its sandbox
    running the program until the program's own timeout (up to 600 s a case); unshare --kill-child then takes the
    namespace's processes with it, and the harness's program has its own parent-death signal. (Not a preexec_fn
    calling prctl: that makes subprocess fork the whole caller, 60 ms more per sandbox from a 2 GB process.)"""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return ()
    try:
        ok = subprocess.run([setpriv, "--pdeathsig", "KILL", "--", "true"], capture_output=True, timeout=10,
                            env={}).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return (setpriv, "--pdeathsig", "KILL", "--") if ok else ()  # (found once, at the first sandbox)


def _run_checked(code: str, tests, *, timeout: float, iso: dict, memory_mb: int = MEMORY_MB) -> Verdict:
    return _run_plan(code, _cached_plan(tests), timeout=timeout, iso=iso, memory_mb=memory_mb)


def check_code(completion, tests, *, timeout: float = 5.0, memory_mb: int = MEMORY_MB,
               isolation: str = "auto", float_tol: float = FLOAT_TOL) -> Verdict:
    """Run the last ```python block of `completion` against `tests` in a sandbox.

    `tests`: assert source (a str, or a list of str, one or more statements each; every `assert` is one test, or,
    in pytest-style tests, every function `test*` the tests define and do not call, and in unittest-style ones every
    method `test*` of a TestCase class, see the module docstring) or
    stdin/stdout cases `[{"input": ..., "output": ...}]` (or APPS-style `{"inputs": [...], "outputs": [...]}`; with a
    "fn_name", APPS's call-based problems: `inputs` the argument lists of calls of that function or `Solution` method;
    LiveCodeBench's "functional" cases, which lack the name, are given that way).
    `timeout` is wall-clock seconds per run: the whole assert program, or each stdio case. `float_tol` (in [0, 1],
    default 1e-6, 0 for exact output): a stdio output that is not the expected one after normalisation is compared
    line by line, token by token (split on whitespace, as many lines of as many tokens), a token matching the
    expected one's text, or, where the expected token is a real number written with a decimal point or exponent
    ("0.5", "1e-3"; "3" stays exact, "nan"/"inf" too), a finite number within `float_tol` of it, absolute or
    relative (|a - b| <= float_tol * max(1, |b|)), as Codeforces/CodeContests checkers accept real answers
    (bounds: see the module docstring). Bad completions give a Verdict with a reason, never an exception; bad
    `tests` raise PonderError. Reasons: "passed N/N",
    "failed test K", "timeout", "crashed", "sandbox violation", "no code block", "syntax error", "too long",
    "invalid completion", "output limit exceeded", "memory limit exceeded (N MiB)" (the run's processes
    together held more than `memory_mb`, with namespaces, or a MemoryError after holding half of it), "error in test statement K" (a statement of the tests that
    is not an assert raised), "failed test K (test_x)", "error in test_x" (a test function with no assert
    raised), "unsupported ..." (pytest- or unittest-style tests using what the verifier does not run),
    "sandbox error: ..." (the sandbox failed; "sandbox error: could not start the sandbox: ..." when the machine
    refused to start it, fork failing for want of processes or memory, also said on stderr: not the program's
    failure, and no exception, so that one transient failure does not end a long RL run)
    """
    if not isinstance(timeout, (int, float)) or not 0 < timeout <= 600:
        raise PonderError(f"check_code: timeout must be in (0, 600] seconds, got {timeout!r}")
    # the sandbox's RLIMIT_AS is memory_mb << 20 bytes: inf raised OverflowError, a value past 2**63 bytes made
    # every run crash, and a negative one read as RLIM_INFINITY (no memory limit at all)
    if isinstance(memory_mb, bool) or not isinstance(memory_mb, int) or not 0 < memory_mb < _MAX_MEMORY_MB:
        raise PonderError(f"check_code: memory_mb must be a whole number of MiB in [1, {_MAX_MEMORY_MB}), "
                          f"got {memory_mb!r:.60}")
    # (compared, not math.isfinite: 10**400 raised OverflowError there; a tolerance past 1 accepts nonsense)
    if isinstance(float_tol, bool) or not isinstance(float_tol, (int, float)) or not 0 <= float_tol <= 1:
        raise PonderError(f"check_code: float_tol must be a number in [0, 1] (0: exact output), "
                          f"got {float_tol!r:.60}")
    plan = _cached_plan(tests)
    if not isinstance(completion, str):
        return Verdict(False, None, "invalid completion")
    code = extract_code(completion)
    if code is None:
        return Verdict(False, None, "no code block")
    if len(code) > MAX_CODE_CHARS:
        return Verdict(False, None, "too long")
    try:  # compiling is safe (nothing runs) and saves a sandbox start for code that cannot run
        compile(code, "<solution>", "exec", dont_inherit=True)
    except Exception:
        return Verdict(False, code, "syntax error")
    try:
        iso = _isolation(isolation)
    except _NoStart as e:  # a failure to start, as in _run_plan: a verdict, not the end of an RL run
        return Verdict(False, code, e.reason)
    return _run_plan(code, plan, timeout=timeout, iso=iso, memory_mb=memory_mb, float_tol=float_tol)
