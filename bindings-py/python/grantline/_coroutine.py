"""Turns the native client's lazily started awaitables into real coroutines.

The Rust core's futures reach asyncio as ``asyncio.Future`` objects (pyo3-async-runtimes'
``future_into_py``). A future is awaitable but not a coroutine, so ``asyncio.create_task``
and ``TaskGroup.create_task`` reject it, and it starts its work the moment it is made. Each
``AsyncGrantline`` method therefore returns ``run(start)`` instead: a genuine coroutine whose
``start()`` (a native closure) hands the Rust future to the runtime only when the coroutine
is first awaited. Cancelling the coroutine's task cancels that asyncio future, and the runtime
then drops the Rust future, abandoning its HTTP request.
"""


async def run(start):
    """Starts the native operation and awaits its result."""
    return await start()
