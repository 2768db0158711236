"""db/printjobs.py: claiming in order, back-off, the failure limit, reprint, printer state."""

import multiprocessing

import pytest

from db import accounts, printjobs, queue, tickets
from db.connection import connect
from db.errors import Conflict


@pytest.fixture
def kiosk(world):
    printer = accounts.create_printer(world.conn, "Kiosk 1", "file", {"path": "/tmp/x.bin"})
    device = accounts.create_device(world.conn, "kiosk", "Kiosk 1", printer_id=printer["id"])
    return printer["id"], device["id"]


def issue(world, kiosk):
    printer_id, device_id = kiosk
    return tickets.issue(world.conn, world.clock, world.ktp, device_id=device_id,
                         printer_id=printer_id, job_payload={"base_url": "http://mpp/"})


def test_issue_spools_a_job_and_claim_takes_it_once(world, kiosk):
    change = issue(world, kiosk)
    assert change.ticket["print_status"] == "pending"
    now = world.clock.ts()
    job = printjobs.claim(world.conn, kiosk[0], now)
    assert job["id"] == change.print_job_id and job["status"] == "printing" and job["attempts"] == 1
    assert printjobs.claim(world.conn, kiosk[0], now) is None  # leased
    done = printjobs.mark_printed(world.conn, job["id"], now)
    assert done.print_status == "printed" and done.device_id == kiosk[1]
    assert queue.get_ticket(world.conn, world.clock, change.ticket["id"])["print_status"] == "printed"
    assert printjobs.mark_printed(world.conn, job["id"], now).replayed  # a second ack changes nothing


def test_a_failing_job_backs_off_and_keeps_its_place(world, kiosk):
    first, second = issue(world, kiosk), issue(world, kiosk)
    now = world.clock.ts()
    job = printjobs.claim(world.conn, kiosk[0], now)
    change = printjobs.mark_failed_try(world.conn, job["id"], now, "offline: refused")
    assert change.print_status == "pending" and change.error == "offline: refused"
    # The second job never overtakes the first, even though it is due.
    assert printjobs.claim(world.conn, kiosk[0], now + 1.9) is None
    again = printjobs.claim(world.conn, kiosk[0], now + 2.0)
    assert again["id"] == first.print_job_id and again["attempts"] == 2
    printjobs.mark_printed(world.conn, again["id"], now + 2.0)
    assert printjobs.claim(world.conn, kiosk[0], now + 2.0)["id"] == second.print_job_id


def test_lease_of_a_dead_worker_runs_out(world, kiosk):
    issue(world, kiosk)
    now = world.clock.ts()
    job = printjobs.claim(world.conn, kiosk[0], now, lease_s=30)
    assert printjobs.claim(world.conn, kiosk[0], now + 29) is None
    assert printjobs.claim(world.conn, kiosk[0], now + 30)["id"] == job["id"]


@pytest.mark.parametrize("attempts, expected", [(1, 2), (2, 4), (3, 8), (4, 16), (5, 30), (20, 30)])
def test_backoff_doubles_and_is_capped(attempts, expected):
    assert printjobs.backoff_s(attempts) == expected


def test_failed_after_the_limit_then_retried_by_staff(world, kiosk):
    change = issue(world, kiosk)
    now = world.clock.ts()
    for attempt in range(3):
        job = printjobs.claim(world.conn, kiosk[0], now + 100 * attempt)
        last = printjobs.mark_failed_try(world.conn, job["id"], now + 100 * attempt, "paper_out",
                                         max_attempts=3)
    assert last.print_status == "failed" and last.job["status"] == "failed"
    ticket = queue.get_ticket(world.conn, world.clock, change.ticket["id"])
    assert ticket["print_status"] == "failed"
    assert printjobs.claim(world.conn, kiosk[0], now + 1000) is None
    with pytest.raises(Conflict):  # only a failed job can be retried
        printjobs.retry(world.conn, issue(world, kiosk).print_job_id, now)
    retried = printjobs.retry(world.conn, change.print_job_id, now + 1000)
    assert retried.print_status == "pending" and retried.job["attempts"] == 0
    assert printjobs.claim(world.conn, kiosk[0], now + 1000)["id"] == change.print_job_id


def test_reprint_uses_the_kiosk_printer_or_refuses(world, kiosk):
    change = issue(world, kiosk)
    now = world.clock.ts()
    again = printjobs.reprint(world.conn, change.ticket["id"], now, user_id=None)
    assert again.job["printer_id"] == kiosk[0] and again.job["payload"]["reprint"] is True
    assert again.print_job_id != change.print_job_id
    plain = tickets.issue(world.conn, world.clock, world.ktp)
    with pytest.raises(Conflict) as caught:
        printjobs.reprint(world.conn, plain.ticket["id"], now)
    assert caught.value.code == "no_printer"
    other = printjobs.reprint(world.conn, plain.ticket["id"], now, printer_id=kiosk[0])
    assert queue.get_ticket(world.conn, world.clock, plain.ticket["id"])["print_status"] == "pending"
    assert other.job["ticket_id"] == plain.ticket["id"]


def test_printer_status_changes_are_news_once(world, kiosk):
    now = world.clock.ts()
    change = printjobs.set_printer_status(world.conn, kiosk[0], "paper_out", "roll empty", now)
    assert change.printer["status"] == "paper_out" and change.printer_devices == [kiosk[1]]
    assert printjobs.set_printer_status(world.conn, kiosk[0], "paper_out", "roll empty", now) is None
    view = printjobs.printer_views(world.conn, world.clock, kiosk[0])[0]
    assert view["status"] == "paper_out" and view["device_ids"] == [kiosk[1]]


def _claim_all(path, printer_id, now, out):
    conn = connect(path)
    got = []
    for _ in range(200):
        job = printjobs.claim(conn, printer_id, now)
        if job is not None:
            got.append(job["id"])
            printjobs.mark_printed(conn, job["id"], now)
        elif printjobs.head(conn, printer_id) is None:
            break
    out.put(got)


def test_two_processes_never_claim_one_job(world, kiosk, db_path):
    ids = [issue(world, kiosk).print_job_id for _ in range(40)]
    out = multiprocessing.get_context("fork").Queue()
    procs = [multiprocessing.get_context("fork").Process(
        target=_claim_all, args=(str(db_path), kiosk[0], world.clock.ts(), out)) for _ in range(2)]
    for p in procs:
        p.start()
    got = [out.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(10)
    claimed = got[0] + got[1]
    assert sorted(claimed) == ids  # each job exactly once
    assert got[0] == sorted(got[0]) and got[1] == sorted(got[1])  # in order
