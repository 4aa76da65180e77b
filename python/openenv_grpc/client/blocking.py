"""The blocking face of the asyncio client core: a private event loop, driven by the caller.

`EnvClient`, `StreamSession`, `RemoteEnv` and `RemoteVectorEnv` hold no
transport code of their own. A blocking call runs the matching coroutine
of the core (`AsyncEnvClient`, `AsyncStreamSession`) on one private event
loop of this process, and the calling thread itself drives that loop until
its coroutine is done: no helper thread, no queue-fed request iterator, no
hand-off between threads per step, and no task (the thread steps the
coroutine itself; a task would cost loop iterations of its own).

Many threads at once (one client shared, or one client each): one of them
drives the loop (the leader); the others hand their coroutine to the loop
and wait. While the leader drives, every thread's call makes progress, and
a waiting thread returns as soon as its own call is done; when the leader's
call is done it hands the loop over to a thread still waiting. So calls from
threads overlap on the wire, replies never cross (each call awaits its own),
and no thread waits on a call that nobody drives.

Inside a running event loop (async code, a notebook kernel) a thread cannot
drive a second loop: the call is then driven by a helper thread while the
caller blocks, as any blocking call made from async code blocks its loop.
It works, but `AsyncEnvClient` is the client to use there.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import os
import queue
import threading
import types
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Iterator
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, cast, overload

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
Core = TypeVar("Core")


class ClientLoop:
    """The private event loop of the blocking clients, and the rule of who drives it."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._lock = threading.Lock()
        self._driving = False
        # The threads waiting for a call while another drives, each woken on its own
        # (when its call is done, or when the loop is handed to it): never all at once.
        self._waiting: dict[threading.Lock, None] = {}
        self._helper: queue.SimpleQueue[concurrent.futures.Future[Any]] | None = None
        # Driving one loop iteration at a time stops the moment the call is done; the
        # public run_until_complete costs two more iterations and a stop per call.
        self._run_once: Callable[[], None] | None = getattr(self._loop, "_run_once", None)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine of the core to its end and return its result (or raise)."""
        running = asyncio.events._get_running_loop()
        if running is not None:
            if running is self._loop:
                coro.close()
                raise RuntimeError("a blocking client call from inside the client's own loop")
            return self._run_for_a_loop(coro)
        with self._lock:
            lead = not self._driving
            self._driving = True
        if not lead:
            return self._follow(asyncio.run_coroutine_threadsafe(coro, self._loop))
        try:
            return self._step_through(coro)
        finally:
            self._hand_over()

    def make(self, factory: Callable[[], T]) -> T:
        """Call `factory` with this loop running (grpc.aio binds a channel to it)."""
        return self.run(_called(factory))

    def iterate(self, items: AsyncIterator[T]) -> Iterator[T]:
        """An async iterator of the core as a blocking one (each item a `run`)."""
        try:
            while (item := self.run(_next(items))) is not _END:
                yield cast(T, item)
        finally:
            # Never waited for here: a generator may be closed by the garbage collector,
            # in any thread and at any moment, even while this loop is being driven.
            self._loop.call_soon_threadsafe(_close, items)

    def _follow(self, future: concurrent.futures.Future[T]) -> T:
        """Wait for a call handed to the loop; drive the loop when nobody else does."""
        wake = threading.Lock()
        wake.acquire()
        future.add_done_callback(lambda _: _release(wake))
        while True:
            with self._lock:
                if future.done():
                    self._waiting.pop(wake, None)
                    if not self._driving:
                        self._wake_one()  # the loop was handed to this thread: pass it on
                    return future.result()
                if not self._driving:
                    self._waiting.pop(wake, None)
                    self._driving = True
                    break
                self._waiting[wake] = None
            wake.acquire()  # until this call is done or the loop is handed over
        try:
            self._drive(asyncio.wrap_future(future, loop=self._loop))
        finally:
            self._hand_over()
        return future.result()

    def _step_through(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` in this thread as a task would, but without one: send into it until
        it waits on a future, drive the loop until that future is done, go on. A task
        costs two loop iterations more per wait (its start, and each wake-up is a
        callback of its own) and its creation; a step waits twice (write, read).

        Interrupted while the coroutine waits (KeyboardInterrupt in a loop iteration):
        the rest of it becomes a task of the loop, driven by the next call, so a call on
        a stream still reads its own answer before the next call writes."""
        loop, run_once = self._loop, self._run_once
        if run_once is None:
            return loop.run_until_complete(coro)
        asyncio.events._set_running_loop(loop)
        try:
            while True:
                try:
                    waiting = coro.send(None)
                except StopIteration as done:
                    return cast(T, done.value)
                if waiting is not None and not asyncio.isfuture(waiting):
                    coro.close()
                    raise RuntimeError(f"a client coroutine yielded {waiting!r}, not a future")
                try:
                    if waiting is None:  # a bare yield (sleep(0)): the loop runs once
                        run_once()
                        continue
                    waiting._asyncio_future_blocking = False
                    while not waiting.done():
                        run_once()
                except BaseException:
                    loop.create_task(_rest(coro, waiting))
                    raise
        finally:
            asyncio.events._set_running_loop(None)

    def _drive(self, future: asyncio.Future[Any]) -> None:
        """Run the loop in this thread until `future` is done."""
        loop, run_once = self._loop, self._run_once
        if run_once is None:
            loop.run_until_complete(future)
            return
        asyncio.events._set_running_loop(loop)
        try:
            while not future.done():
                run_once()
        finally:
            asyncio.events._set_running_loop(None)

    def _hand_over(self) -> None:
        with self._lock:
            self._driving = False
            self._wake_one()

    def _wake_one(self) -> None:
        """Wake the longest-waiting thread to drive the loop (lock held)."""
        if self._waiting:
            wake = next(iter(self._waiting))
            del self._waiting[wake]
            _release(wake)

    def _run_for_a_loop(self, coro: Coroutine[Any, Any, T]) -> T:
        """A blocking call from a thread that runs an event loop of its own: a helper
        thread follows the call (driving when nobody else does) while the caller blocks."""
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        with self._lock:
            if self._helper is None:
                self._helper = queue.SimpleQueue()
                threading.Thread(
                    target=self._help, args=(self._helper,), name="openenv-client", daemon=True
                ).start()
            self._helper.put(future)
        return future.result()

    def _help(self, calls: queue.SimpleQueue[concurrent.futures.Future[Any]]) -> None:
        while True:
            future = calls.get()
            with contextlib.suppress(BaseException):  # the caller reads it from the future
                self._follow(future)


def _release(wake: threading.Lock) -> None:
    """Wake a waiting thread; a wake-up it no longer needs is harmless (it checks again)."""
    with contextlib.suppress(RuntimeError):  # already released: woken once already
        wake.release()


@types.coroutine
def _rest(coro: Coroutine[Any, Any, Any], waiting: Any) -> Generator[Any, None, Any]:
    """The rest of a coroutine whose driving was interrupted while it waited on
    `waiting` (a future, or None for a bare yield), as a task runs it: it yields what the
    coroutine yields, and a cancellation of the task goes into the coroutine."""
    while True:
        if waiting is not None:
            waiting._asyncio_future_blocking = True  # a task takes only an awaited future
        try:
            yield waiting
        except BaseException as exc:
            step: Callable[[], Any] = functools.partial(coro.throw, exc)
        else:
            step = functools.partial(coro.send, None)
        try:
            waiting = step()
        except StopIteration as done:
            return done.value


async def _called(factory: Callable[[], T]) -> T:
    return factory()


_END = object()


async def _next(items: AsyncIterator[T]) -> T | object:
    """The next item, or _END (a coroutine cannot raise StopAsyncIteration to its task)."""
    try:
        return await anext(items)
    except StopAsyncIteration:
        return _END


def _close(items: AsyncIterator[Any]) -> None:
    aclose = getattr(items, "aclose", None)
    if aclose is not None:
        task = asyncio.ensure_future(aclose())
        task.add_done_callback(_retrieved)


def _retrieved(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


_shared: ClientLoop | None = None
_shared_lock = threading.Lock()


def client_loop() -> ClientLoop:
    """The process's ClientLoop, made on first use (and anew in a forked child)."""
    global _shared
    loop = _shared
    if loop is None:
        with _shared_lock:
            if _shared is None:
                _shared = ClientLoop()
            loop = _shared
    return loop


def _forget_after_fork() -> None:
    """A forked child must not share the parent's loop (its selector is the parent's)."""
    global _shared
    _shared = None


os.register_at_fork(after_in_child=_forget_after_fork)


class Facade(Generic[Core]):
    """A blocking face of a core object: `blocking` methods run its coroutines on `_loop`."""

    _core: Core
    _loop: ClientLoop

    def __init__(self, core: Core, loop: ClientLoop) -> None:
        self._core = core
        self._loop = loop


class blocking(Generic[Core, P, R]):  # noqa: N801 - used like a decorator, as `property` is
    """A method of a Facade that runs a coroutine method of its core to its end.

    `reset = blocking(AsyncEnvClient.reset)` gives the facade a `reset` with the
    core's signature and docstring that returns the coroutine's result; the bound
    call is kept on the instance after first use, so later calls skip this lookup.
    """

    def __init__(self, method: Callable[Concatenate[Core, P], Coroutine[Any, Any, R]]) -> None:
        self._method = method
        self._name = method.__name__
        self.__doc__ = method.__doc__

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._name = name

    @overload
    def __get__(self, facade: None, owner: type[Any] | None = None) -> blocking[Core, P, R]: ...

    @overload
    def __get__(self, facade: Facade[Core], owner: type[Any] | None = None) -> Callable[P, R]: ...

    def __get__(
        self, facade: Facade[Core] | None, owner: type[Any] | None = None
    ) -> blocking[Core, P, R] | Callable[P, R]:
        if facade is None:
            return self
        method, core, run = self._method, facade._core, facade._loop.run

        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            return run(method(core, *args, **kwargs))

        call.__name__ = call.__qualname__ = self._name
        call.__doc__ = self.__doc__
        facade.__dict__[self._name] = call
        return call


class blocking_iter(Generic[Core, P, R]):  # noqa: N801 - used like a decorator
    """A method of a Facade that iterates an async-iterator method of its core, blocking
    for each item (`watch = blocking_iter(AsyncEnvClient.watch)`)."""

    def __init__(self, method: Callable[Concatenate[Core, P], AsyncIterator[R]]) -> None:
        self._method = method
        self._name = method.__name__
        self.__doc__ = method.__doc__

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._name = name

    @overload
    def __get__(
        self, facade: None, owner: type[Any] | None = None
    ) -> blocking_iter[Core, P, R]: ...

    @overload
    def __get__(
        self, facade: Facade[Core], owner: type[Any] | None = None
    ) -> Callable[P, Iterator[R]]: ...

    def __get__(
        self, facade: Facade[Core] | None, owner: type[Any] | None = None
    ) -> blocking_iter[Core, P, R] | Callable[P, Iterator[R]]:
        if facade is None:
            return self
        method, core, loop = self._method, facade._core, facade._loop

        def call(*args: P.args, **kwargs: P.kwargs) -> Iterator[R]:
            return loop.iterate(method(core, *args, **kwargs))

        call.__name__ = call.__qualname__ = self._name
        call.__doc__ = self.__doc__
        facade.__dict__[self._name] = call
        return call
