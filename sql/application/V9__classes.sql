-- Classes: the gym's weekly schedule, its holidays, and who books, waits for and visits each class.
--
-- A class's occurrences are derived from the schedule (a weekday and a start time, between its
-- active dates); an occurrence row exists only once something attaches to it (a booking, a visit,
-- a cancellation), one per schedule and date, so two first bookings at once converge on one row.
-- A drop-in is a member row of kind 'drop_in': a visitor with a name and an e-mail, not counted or
-- listed among the gym's members, with their visits (class_booking rows) and results.

ALTER TABLE member ADD COLUMN kind varchar(10) NOT NULL DEFAULT 'member'
    CONSTRAINT member_kind_check CHECK (kind IN ('member', 'drop_in'));

-- One row (id 1): the gym's booking rules. Cut-offs are minutes before a class starts.
CREATE TABLE class_settings (
    id              smallint     CONSTRAINT class_settings_pkey PRIMARY KEY CONSTRAINT class_settings_one_check CHECK (id = 1),
    booking_cutoff_minutes integer NOT NULL DEFAULT 0
                    CONSTRAINT class_settings_booking_cutoff_check CHECK (booking_cutoff_minutes BETWEEN 0 AND 10080),
    cancel_cutoff_minutes integer NOT NULL DEFAULT 0
                    CONSTRAINT class_settings_cancel_cutoff_check CHECK (cancel_cutoff_minutes BETWEEN 0 AND 10080),
    checkin_opens_minutes integer NOT NULL DEFAULT 30
                    CONSTRAINT class_settings_checkin_opens_check CHECK (checkin_opens_minutes BETWEEN 0 AND 1440),
    updated_at      timestamptz  NOT NULL DEFAULT now()
);
INSERT INTO class_settings (id) VALUES (1);

CREATE TABLE class_schedule (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT class_schedule_pkey PRIMARY KEY,
    name            varchar(80)  NOT NULL CONSTRAINT class_schedule_name_check CHECK (btrim(name) <> ''),
    -- ISO weekday: 1 Monday … 7 Sunday.
    weekday         smallint     NOT NULL CONSTRAINT class_schedule_weekday_check CHECK (weekday BETWEEN 1 AND 7),
    starts_at       time         NOT NULL,
    length_minutes  smallint     NOT NULL CONSTRAINT class_schedule_length_check CHECK (length_minutes BETWEEN 5 AND 600),
    coach_id        bigint       CONSTRAINT class_schedule_coach_fkey REFERENCES gym_login (id) ON DELETE SET NULL,
    capacity        smallint     NOT NULL CONSTRAINT class_schedule_capacity_check CHECK (capacity BETWEEN 1 AND 500),
    -- The programming track its athletes do (workout.track).
    track           varchar(40)  NOT NULL DEFAULT 'main' CONSTRAINT class_schedule_track_check CHECK (btrim(track) <> ''),
    active_from     date         NOT NULL DEFAULT current_date,
    active_until    date,
    created_at      timestamptz  NOT NULL DEFAULT now(),
    updated_at      timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT class_schedule_active_check CHECK (active_until IS NULL OR active_until >= active_from)
);
CREATE INDEX class_schedule_weekday_idx ON class_schedule (weekday, starts_at);

-- A day with no classes at all (a holiday), with the reason athletes read.
CREATE TABLE class_holiday (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT class_holiday_pkey PRIMARY KEY,
    on_date         date         NOT NULL,
    reason          varchar(200) NOT NULL CONSTRAINT class_holiday_reason_check CHECK (btrim(reason) <> ''),
    CONSTRAINT class_holiday_on_date_key UNIQUE (on_date)
);

CREATE TABLE class_occurrence (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT class_occurrence_pkey PRIMARY KEY,
    schedule_id     bigint       NOT NULL
                    CONSTRAINT class_occurrence_schedule_fkey REFERENCES class_schedule (id) ON DELETE CASCADE,
    on_date         date         NOT NULL,
    -- Non-empty when this one class is cancelled: the reason athletes read.
    cancelled_reason varchar(200) NOT NULL DEFAULT '',
    created_at      timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT class_occurrence_schedule_date_key UNIQUE (schedule_id, on_date)
);
CREATE INDEX class_occurrence_on_date_idx ON class_occurrence (on_date);

-- A member's place in a class: booked, waiting (in queued_at order), or cancelled; checked_in_at
-- says they came (a visit). A walk-in is checked in without having booked.
CREATE TABLE class_booking (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT class_booking_pkey PRIMARY KEY,
    occurrence_id   bigint       NOT NULL
                    CONSTRAINT class_booking_occurrence_fkey REFERENCES class_occurrence (id) ON DELETE CASCADE,
    member_id       bigint       NOT NULL
                    CONSTRAINT class_booking_member_fkey REFERENCES member (id) ON DELETE CASCADE,
    status          varchar(10)  NOT NULL
                    CONSTRAINT class_booking_status_check CHECK (status IN ('booked', 'waitlisted', 'cancelled')),
    queued_at       timestamptz  NOT NULL DEFAULT clock_timestamp(),
    checked_in_at   timestamptz,
    created_at      timestamptz  NOT NULL DEFAULT now(),
    updated_at      timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT class_booking_occurrence_member_key UNIQUE (occurrence_id, member_id),
    CONSTRAINT class_booking_checked_in_check CHECK (checked_in_at IS NULL OR status = 'booked')
);
CREATE INDEX class_booking_member_idx ON class_booking (member_id, occurrence_id);
CREATE INDEX class_booking_waitlist_idx ON class_booking (occurrence_id, queued_at, id) WHERE status = 'waitlisted';
