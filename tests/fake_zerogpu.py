"""A stand-in for the `spaces` package's ZeroGPU decorator (spaces/zero/wrappers.py, 0.51) that behaves as the real
one where the workbench depends on it: the decorated generator runs in a process forked from the caller; its
arguments are pickled into a queue before it starts (an unpicklable argument aborts the call); each value it yields
comes back pickled; closing the caller's generator sets an event the child checks after each value; and the lease's
duration and the visitor's quota token are read in the calling context (the Gradio request's `x-ip-token` header).
Put it in place with `monkeypatch.setitem(sys.modules, "spaces", fake_zerogpu)`."""

import multiprocessing

from gradio.context import LocalContext

calls: list[dict] = []  # what each call asked for, seen in the calling process


def _child(task, arg_queue, res_queue, stop) -> None:
    args, kwargs = arg_queue.get()
    try:
        generator = task(*args, **kwargs)
        for value in generator:
            if stop.is_set():  # as spaces does: the stop is seen only once the task yields again
                generator.close()
                break
            res_queue.put(("value", value))
    except Exception as error:  # spaces sends an ExceptionResult, raised as "ZeroGPU worker error" in the caller
        res_queue.put(("error", f"{type(error).__name__}: {error}"))
    res_queue.put(("end", None))


def GPU(duration=60):  # noqa: N802 (the real decorator's name)
    def decorate(task):
        def handler(*args, **kwargs):
            request = LocalContext.request.get(None)
            headers = getattr(request, "headers", None) or {}
            seconds = duration(*args, **kwargs) if callable(duration) else duration
            calls.append({"duration": seconds, "ip_token": headers.get("x-ip-token")})
            fork = multiprocessing.get_context("fork")
            arg_queue, res_queue, stop = fork.SimpleQueue(), fork.SimpleQueue(), fork.Event()
            process = fork.Process(target=_child, args=(task, arg_queue, res_queue, stop), daemon=True)
            process.start()
            try:
                arg_queue.put((args, kwargs))  # pickled here, as spaces' Worker.arg_queue.put does
            except Exception:
                process.kill()
                raise
            try:
                while True:
                    kind, value = res_queue.get()
                    if kind == "end":
                        return
                    if kind == "error":
                        raise RuntimeError(f"ZeroGPU worker error: {value}")
                    try:
                        yield value
                    except GeneratorExit:  # spaces sets the stop event, then waits for the child's end
                        stop.set()
                        while res_queue.get()[0] != "end":
                            pass
                        raise
            finally:
                process.join(timeout=60)

        return handler

    return decorate
