"""The VRP's HTTPS intake: providers that are online upload batches and get their receipt back.

The batch format, its verification and the importer are exactly those of the outbox path
(``vrp_desktop.sync``); this package only changes how a batch arrives. Qt-free.
"""
