-- Transactions a projector moved past before it had read all of their
-- events: those still running when it read later ones (a long import), and
-- those it read only part of while it let other tenants' events pass. The
-- projector reads their events when they commit; a row goes once every
-- event of its transaction is applied. Written in the projector's batch
-- transaction, with events_offsets.
CREATE TABLE events_offsets_open (
    consumer_group VARCHAR(255) NOT NULL,
    transaction_id xid8         NOT NULL,
    offset_acked   BIGINT       NOT NULL DEFAULT 0,
    PRIMARY KEY (consumer_group, transaction_id)
);
