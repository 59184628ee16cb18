//! Threads in a sandbox that runs one: started threads run cooperatively in
//! the calling thread (when joined, when their starter waits, at the end of
//! the call), and a wait that can never end is a Python exception instead
//! of a trap (`runtime/python/src/isola_guest/threads.py`).

mod common;

use std::sync::Arc;

use common::{Event, Recorder, eval, eval_events, sandbox};
use isola::ErrorKind;

#[tokio::test(flavor = "multi_thread")]
async fn waits_that_can_never_end_raise_deadlock_error() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import threading, queue, concurrent.futures as cf\n\
         def held_rlock():\n\
         \x20   r = threading.RLock()\n\
         \x20   t = threading.Thread(target=r.acquire)\n\
         \x20   t.start(); t.join()\n\
         \x20   return r\n\
         def cond_wait():\n\
         \x20   c = threading.Condition()\n\
         \x20   with c:\n        c.wait()\n\
         def held(lock):\n\
         \x20   lock.acquire()\n\
         \x20   return lock\n\
         cases = [\n\
         \x20   ('Lock', lambda: held(threading.Lock()).acquire()),\n\
         \x20   ('Lock with', lambda: held(threading.Lock()).__enter__()),\n\
         \x20   ('RLock of another thread', lambda: held_rlock().acquire()),\n\
         \x20   ('Condition', cond_wait),\n\
         \x20   ('Semaphore', lambda: threading.Semaphore(0).acquire()),\n\
         \x20   ('BoundedSemaphore', lambda: held(threading.BoundedSemaphore(1)).acquire()),\n\
         \x20   ('Event', lambda: threading.Event().wait()),\n\
         \x20   ('Barrier', lambda: threading.Barrier(2).wait()),\n\
         \x20   ('Queue', lambda: queue.Queue().get()),\n\
         \x20   ('full Queue', lambda: (q := queue.Queue(1), q.put(1), q.put(2))),\n\
         \x20   ('SimpleQueue', lambda: queue.SimpleQueue().get()),\n\
         \x20   ('LifoQueue', lambda: queue.LifoQueue().get()),\n\
         \x20   ('PriorityQueue', lambda: queue.PriorityQueue().get()),\n\
         \x20   ('Future', lambda: cf.Future().result()),\n\
         ]\n\
         for name, attempt in cases:\n\
         \x20   try:\n        attempt()\n        print(name, 'RETURNED')\n\
         \x20   except RuntimeError as e:\n\
         \x20       print(name, type(e).__name__, 'isola sandbox: this wait can never end' in str(e))\n",
    )
    .await;
    let expected: String = [
        "Lock",
        "Lock with",
        "RLock of another thread",
        "Condition",
        "Semaphore",
        "BoundedSemaphore",
        "Event",
        "Barrier",
        "Queue",
        "full Queue",
        "SimpleQueue",
        "LifoQueue",
        "PriorityQueue",
        "Future",
    ]
    .iter()
    .map(|name| format!("{name} DeadlockError True\n"))
    .collect();
    assert_eq!(out.stdout, expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_uncaught_deadlock_fails_at_the_waiting_line_and_the_sandbox_goes_on() {
    let mut sb = sandbox().await;
    let err = sb
        .eval_script(
            "import queue\nq = queue.Queue()\nitem = q.get()\n",
            Arc::new(Recorder::default()),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::GuestException, "{err:?}");
    let isola::Error::UserCode { kind, message, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(kind, "DeadlockError");
    assert!(message.contains("line 3, in <module>"), "{message}");
    assert!(message.contains("item = q.get()"), "{message}");
    assert!(
        message.contains("sandbox.DeadlockError: isola sandbox: this wait can never end"),
        "{message}"
    );
    let out = eval(&mut sb, "q.put(5)\nprint(q.get())\n").await;
    assert_eq!(out.stdout, "5\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn timed_waits_wait_their_timeout_then_give_up() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import threading, queue, time\n\
         def waited(fn, timeout):\n\
         \x20   start = time.monotonic()\n\
         \x20   try:\n        result = fn(timeout)\n\
         \x20   except Exception as e:\n        result = type(e).__name__\n\
         \x20   return result, time.monotonic() - start >= timeout\n\
         lock = threading.Lock(); lock.acquire()\n\
         cond = threading.Condition(); cond.acquire()\n\
         worker = threading.Thread(target=lambda: threading.Event().wait())\n\
         print(waited(lambda t: lock.acquire(timeout=t), 0.2))\n\
         print(waited(lambda t: lock.acquire(True, t), 0.05))\n\
         print(waited(lambda t: threading.Event().wait(t), 0.1))\n\
         print(waited(lambda t: cond.wait(t), 0.1))\n\
         print(waited(lambda t: threading.Semaphore(0).acquire(timeout=t), 0.1))\n\
         print(waited(lambda t: queue.Queue().get(timeout=t), 0.1))\n\
         print(waited(lambda t: queue.SimpleQueue().get(timeout=t), 0.1))\n\
         print(waited(lambda t: threading.Barrier(2).wait(t), 0.1))\n\
         print(lock.acquire(blocking=False), lock.acquire(timeout=0))\n",
    )
    .await;
    assert_eq!(
        out.stdout,
        "(False, True)\n(False, True)\n(False, True)\n(False, True)\n(False, True)\n\
         ('Empty', True)\n('Empty', True)\n('BrokenBarrierError', True)\nFalse False\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn started_threads_run_when_joined_each_as_its_own_thread() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import threading\n\
         seen = []\n\
         local = threading.local()\n\
         local.name = 'main'\n\
         def work(i):\n\
         \x20   me = threading.current_thread()\n\
         \x20   local.name = me.name\n\
         \x20   seen.append((i, me.name, me.is_alive(), threading.get_ident() == me.ident, local.name))\n\
         threads = [threading.Thread(target=work, args=(i,), name=f'T{i}') for i in range(4)]\n\
         for t in threads:\n    t.start()\n\
         print(all(t.is_alive() for t in threads), len(threading.enumerate()), seen)\n\
         for t in threads:\n    t.join()\n\
         print(seen)\n\
         print(any(t.is_alive() for t in threads), len(threading.enumerate()))\n\
         print(len({t.ident for t in threads} | {threading.get_ident()}))\n\
         print(threading.current_thread() is threading.main_thread(), local.name)\n\
         try:\n    threading.Thread(target=print).join()\nexcept RuntimeError as e:\n    print(e)\n",
    )
    .await;
    assert_eq!(
        out.stdout,
        "True 5 []\n\
         [(0, 'T0', True, True, 'T0'), (1, 'T1', True, True, 'T1'), (2, 'T2', True, True, 'T2'), \
         (3, 'T3', True, True, 'T3')]\n\
         False 1\n5\nTrue main\ncannot join thread before it is started\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_consumes_a_queue_until_its_sentinel() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import threading, queue\n\
         q = queue.Queue()\n\
         done = []\n\
         def worker():\n\
         \x20   while (item := q.get()) is not None:\n\
         \x20       done.append(item * 10)\n\
         t = threading.Thread(target=worker)\n\
         t.start()\n\
         for i in range(5):\n    q.put(i)\n\
         q.put(None)\n\
         t.join()\n\
         print(done, t.is_alive())\n",
    )
    .await;
    assert_eq!(out.stdout, "[0, 10, 20, 30, 40] False\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn queue_join_with_a_daemon_worker_returns_when_all_tasks_are_done() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import threading, queue\n\
         q = queue.Queue()\n\
         results = []\n\
         def worker():\n\
         \x20   while True:\n\
         \x20       item = q.get()\n\
         \x20       try:\n            results.append(item ** 2)\n\
         \x20       except Exception:\n            pass\n\
         \x20       finally:\n            q.task_done()\n\
         threading.Thread(target=worker, daemon=True).start()\n\
         for i in range(6):\n    q.put(i)\n\
         q.join()\n\
         print(results, q.unfinished_tasks)\n\
         for i in range(2):\n    q.put(i + 10)\n\
         threading.Thread(target=worker, daemon=True).start()\n\
         q.join()\n\
         print(results[-2:])\n",
    )
    .await;
    // The worker's last `q.get()` can never return: the worker is ended
    // quietly (it is a daemon), and `q.join()` goes on.
    assert_eq!(out.stdout, "[0, 1, 4, 9, 16, 25] 0\n[100, 121]\n");
    assert_eq!(out.stderr, "");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_background_refresher_stops_when_told_and_joined() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import threading, time\n\
         done = threading.Event()\n\
         refreshes = []\n\
         def refresh():\n\
         \x20   while not done.wait(0.05):\n\
         \x20       refreshes.append(time.monotonic())\n\
         \x20   refreshes.append('final')\n\
         t = threading.Thread(target=refresh, daemon=True)\n\
         t.start()\n\
         total = 0\n\
         for i in range(4):\n    time.sleep(0.01)\n    total += i\n\
         done.set()\n\
         t.join()\n\
         print(total, refreshes, t.is_alive())\n",
    )
    .await;
    // Like rich's progress bars: the daemon refresher runs once joined,
    // sees `done` and does its final update.
    assert_eq!(out.stdout, "6 ['final'] False\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_producer_thread_feeds_the_main_threads_get_loop() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import threading, queue\n\
         q = queue.Queue()\n\
         def produce():\n\
         \x20   for word in ['a', 'b', 'c']:\n\
         \x20       q.put(word)\n\
         \x20   q.put(None)\n\
         threading.Thread(target=produce).start()\n\
         got = []\n\
         while (item := q.get()) is not None:\n    got.append(item)\n\
         print(got)\n\
         ready = threading.Event()\n\
         box = []\n\
         threading.Thread(target=lambda: (box.append(42), ready.set())).start()\n\
         ready.wait()\n\
         print(box)\n",
    )
    .await;
    assert_eq!(out.stdout, "['a', 'b', 'c']\n[42]\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn threads_never_joined_run_at_the_end_of_the_call_before_its_result() {
    let mut sb = sandbox().await;
    let events = eval_events(
        &mut sb,
        "import threading\n\
         threading.Thread(target=print, args=('non-daemon thread',)).start()\n\
         threading.Thread(target=print, args=('daemon thread',), daemon=True).start()\n\
         print('script end')\n",
    )
    .await;
    // Non-daemon threads run at the end, as `python` waits for them at
    // exit; a daemon thread that never ran is dropped.
    assert_eq!(
        events,
        vec![
            Event::Stdout("script end\n".into()),
            Event::Stdout("non-daemon thread\n".into()),
        ]
    );
    eval(
        &mut sb,
        "import threading\n\
         def spawn():\n\
         \x20   threading.Thread(target=print, args=('from a call',)).start()\n\
         \x20   return 'returned'\n",
    )
    .await;
    let sink = Arc::new(Recorder::default());
    sb.call_with_sink("spawn", [], sink.clone()).await.unwrap();
    assert_eq!(
        sink.events(),
        vec![
            Event::Stdout("from a call\n".into()),
            Event::Result("\"returned\"".into()),
        ]
    );
    let out = eval(&mut sb, "print(threading.active_count())\n").await;
    assert_eq!(out.stdout, "1\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exception_in_a_thread_goes_to_threading_excepthook() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import threading\n\
         def boom():\n\
         \x20   raise ValueError('bad thing')\n\
         t = threading.Thread(target=boom, name='worker')\n\
         t.start()\n\
         t.join()\n\
         print('main goes on')\n\
         caught = []\n\
         threading.excepthook = lambda args: caught.append((args.exc_type.__name__, args.thread.name))\n\
         t = threading.Thread(target=boom, name='second')\n\
         t.start()\n\
         t.join()\n\
         print(caught)\n",
    )
    .await;
    assert_eq!(out.stdout, "main goes on\n[('ValueError', 'second')]\n");
    assert!(
        out.stderr
            .starts_with("Exception in thread worker:\nTraceback"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.ends_with("ValueError: bad thing\n"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thread_whose_wait_can_never_end_is_ended_past_its_except_exception() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import threading, queue\n\
         q = queue.Queue()\n\
         log = []\n\
         def stuck():\n\
         \x20   try:\n        q.get()\n\
         \x20   except Exception as e:\n        log.append('caught ' + type(e).__name__)\n\
         \x20   finally:\n        log.append('finally ran')\n\
         t = threading.Thread(target=stuck, name='stuck')\n\
         t.start()\n\
         t.join()\n\
         print(log, t.is_alive())\n",
    )
    .await;
    assert_eq!(out.stdout, "['finally ran'] False\n");
    assert_eq!(
        out.stderr,
        "isola sandbox: thread 'stuck' ended: it waited for something no thread left to run could do\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timer_runs_its_function_after_its_interval_unless_cancelled() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import threading, time\n\
         fired = []\n\
         start = time.monotonic()\n\
         t = threading.Timer(0.2, lambda: fired.append(time.monotonic() - start >= 0.2))\n\
         t.start()\n\
         t.join()\n\
         c = threading.Timer(30, lambda: fired.append('cancelled one ran'))\n\
         c.start()\n\
         c.cancel()\n\
         c.join()\n\
         print(fired)\n",
    )
    .await;
    assert_eq!(out.stdout, "[True]\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn threads_meeting_at_a_barrier_all_pass_it() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import threading\n\
         barrier = threading.Barrier(3)\n\
         passed = []\n\
         def meet(i):\n\
         \x20   barrier.wait()\n\
         \x20   passed.append(i)\n\
         for i in range(2):\n    threading.Thread(target=meet, args=(i,)).start()\n\
         barrier.wait()\n\
         print(sorted(passed))\n\
         lock = threading.RLock()\n\
         with lock:\n    with lock:\n        print(lock._is_owned())\n\
         print(lock._is_owned(), lock.locked())\n",
    )
    .await;
    assert_eq!(out.stdout, "[0, 1]\nTrue\nFalse False\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn started_threads_run_while_their_starter_sleeps() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import threading, time\n\
         results = []\n\
         def work():\n\
         \x20   for i in range(3):\n\
         \x20       time.sleep(0.02)\n\
         \x20       results.append(i)\n\
         t = threading.Thread(target=work)\n\
         t.start()\n\
         polls = 0\n\
         while t.is_alive():\n\
         \x20   time.sleep(0.01)\n\
         \x20   polls += 1\n\
         print(results, polls)\n\
         stop = threading.Event()\n\
         ticks = []\n\
         def heartbeat():\n\
         \x20   while not stop.is_set():\n\
         \x20       ticks.append(1)\n\
         \x20       time.sleep(0.02)\n\
         hb = threading.Thread(target=heartbeat, daemon=True)\n\
         hb.start()\n\
         time.sleep(0.05)\n\
         print(len(ticks), hb.is_alive())\n\
         start = time.monotonic()\n\
         threading.Event().wait(0.1)\n\
         print(time.monotonic() - start >= 0.1, len(ticks) >= 1, hb.is_alive())\n",
    )
    .await;
    // A sleep runs non-daemon threads only; a wait runs the daemon
    // heartbeat too, which would never return: it is ended once the wait
    // beneath it has timed out.
    assert_eq!(out.stdout, "[0, 1, 2] 1\n0 True\nTrue True False\n");
    assert_eq!(out.stderr, "");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_producer_that_sleeps_between_items_feeds_the_main_thread() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import threading, queue, time\n\
         q = queue.Queue()\n\
         def produce():\n\
         \x20   for i in range(3):\n\
         \x20       time.sleep(0.02)\n\
         \x20       q.put(i)\n\
         \x20   q.put(None)\n\
         threading.Thread(target=produce).start()\n\
         got = []\n\
         while (item := q.get()) is not None:\n    got.append(item)\n\
         print(got)\n",
    )
    .await;
    assert_eq!(out.stdout, "[0, 1, 2]\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn process_and_thread_pools_run_their_tasks_inline() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import multiprocessing, multiprocessing.dummy, concurrent.futures as cf\n\
         def square(x):\n    return x * x\n\
         with multiprocessing.Pool(4) as pool:\n\
         \x20   print(pool.map(square, range(5)), pool.starmap(pow, [(2, 5)]), list(pool.imap(square, [3])))\n\
         \x20   print(sorted(pool.imap_unordered(square, [1, 2])), pool.apply(square, (7,)))\n\
         \x20   done = []\n\
         \x20   r = pool.apply_async(square, (8,), callback=done.append)\n\
         \x20   print(r.ready(), r.get(), done, pool.map_async(square, [9]).get())\n\
         \x20   bad = pool.apply_async(square, ('x',), error_callback=lambda e: done.append(type(e).__name__))\n\
         \x20   print(bad.successful(), done)\n\
         \x20   try:\n        pool.map(square, ['y'])\n    except TypeError as e:\n        print('TypeError')\n\
         pool.close()\n\
         try:\n    pool.map(square, [1])\nexcept ValueError as e:\n    print(e)\n\
         with multiprocessing.dummy.Pool(2) as tp:\n    print(tp.map(str, [1, 2]))\n\
         with cf.ProcessPoolExecutor(max_workers=2) as ex:\n\
         \x20   print(list(ex.map(square, [1, 2, 3], chunksize=2)), ex.submit(square, 4).result())\n\
         try:\n    multiprocessing.Process(target=print).start()\nexcept PermissionError as e:\n    print('isola sandbox' in str(e))\n",
    )
    .await;
    assert_eq!(
        out.stdout,
        "[0, 1, 4, 9, 16] [32] [9]\n[1, 4] 49\nTrue 64 [64] [81]\n\
         False [64, 'TypeError']\nTypeError\nPool not running\n['1', '2']\n[1, 4, 9] 16\nTrue\n"
    );
}
