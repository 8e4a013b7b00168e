"""Persistence of the approval workflow: SQLModel tables, unit of work, audit chain, outbox.

Where to start, by caller:

- every process: ``storage.engine.open_database(url)`` (refuses an unmigrated schema);
  ``storage.migrations.upgrade`` is ``withdrawbot migrate``; at start, with the loaded policy,
  ``storage.audit.record_policy``.
- Slack use cases: ``storage.transactions`` (``draft``, ``decide``, ``cancel``, ``expire``,
  ``requote``, ``get_request``, ``expirable``) and ``storage.freeze``.
- the worker: ``storage.work`` (``claim``, ``renew_lease``, ``release_lease``,
  ``begin_submission``, ``record_exchange_outcome``, ``record_status``, ``submissions``).
- the notifier: ``storage.outbox`` (``pending``, ``mark_delivered``).
- operators: ``storage.audit`` (``verify``, ``export_csv``).

Each of those functions is one transaction that commits once; refusals from ``approvals``
propagate unchanged and leave the database as it was. Errors of storage itself are in
``storage.failures``.
"""
