-- Local data seed for an application database (fitbuddy-dev, or a local test affiliate):
-- members, an exercise library, a workout of every score type, and results to rank (Rx and
-- Scaled, time-capped, tiebreaks, shared ranks). Applied by Flyway only through FitBuddy's seed
-- guard (local hosts, FITBUDDY_ENV local/test). Idempotent: a repeatable script re-runs
-- whenever it changes. Dates are fixed so the data is the same on every machine.

INSERT INTO member (first_name, last_name, email, gender, birth_date, joined_on, is_active, hide_scores)
VALUES
  ('Ava', 'Alvarez', 'ava.alvarez@ironworks.localhost', 'F', '1990-03-14', '2025-01-01', true, false),
  ('Ben', 'Brooks', 'ben.brooks@ironworks.localhost', 'M', '1985-07-02', '2025-02-04', true, false),
  ('Chloe', 'Chen', 'chloe.chen@ironworks.localhost', 'F', '1995-11-23', '2025-03-07', true, false),
  ('Diego', 'Diaz', 'diego.diaz@ironworks.localhost', 'M', '1992-01-30', '2025-04-10', true, false),
  ('Emma', 'Eriksen', 'emma.eriksen@ironworks.localhost', 'F', '1988-05-09', '2025-05-13', true, false),
  ('Farid', 'Farouk', 'farid.farouk@ironworks.localhost', 'M', '1979-09-17', '2025-06-16', true, false),
  ('Grace', 'Gallagher', 'grace.gallagher@ironworks.localhost', 'F', '2000-02-29', '2025-07-19', true, false),
  ('Hugo', 'Hernandez', 'hugo.hernandez@ironworks.localhost', 'M', '1996-06-06', '2025-08-22', true, false),
  ('Isla', 'Ito', 'isla.ito@ironworks.localhost', 'F', '1983-12-01', '2025-09-25', true, false),
  ('Jamal', 'Jones', 'jamal.jones@ironworks.localhost', 'M', '1991-04-21', '2025-10-01', true, false),
  ('Kira', 'Kowalski', 'kira.kowalski@ironworks.localhost', 'F', '1998-08-08', '2025-11-04', true, false),
  ('Liam', 'Lindqvist', 'liam.lindqvist@ironworks.localhost', 'M', '1987-10-10', '2025-12-07', true, false),
  ('Maya', 'Moreau', 'maya.moreau@ironworks.localhost', 'F', '1993-03-03', '2025-01-10', true, false),
  ('Noah', 'Nakamura', 'noah.nakamura@ironworks.localhost', 'M', '1975-07-27', '2025-02-13', true, false),
  ('Olga', 'Orlova', 'olga.orlova@ironworks.localhost', 'F', '1989-09-19', '2025-03-16', true, false),
  ('Pablo', 'Perez', 'pablo.perez@ironworks.localhost', 'M', '2001-01-11', '2025-04-19', true, false),
  ('Quinn', 'Quigley', 'quinn.quigley@ironworks.localhost', 'X', '1997-05-15', '2025-05-22', true, true),
  ('Rosa', 'Rossi', 'rosa.rossi@ironworks.localhost', 'F', '1984-04-04', '2025-06-25', true, false),
  ('Sven', 'Svensson', 'sven.svensson@ironworks.localhost', 'M', '1990-10-30', '2025-07-01', true, false),
  ('Tara', 'Thompson', 'tara.thompson@ironworks.localhost', 'F', '1994-02-14', '2025-08-04', true, false),
  ('Umar', 'Usman', 'umar.usman@ironworks.localhost', 'M', '1986-12-12', '2025-09-07', true, false),
  ('Vera', 'Volkova', 'vera.volkova@ironworks.localhost', 'F', '1999-06-30', '2025-10-10', true, false),
  ('Will', 'Walker', 'will.walker@ironworks.localhost', 'M', '1982-08-18', '2025-11-13', false, false),
  ('Zoe', 'Zimmerman', 'zoe.zimmerman@ironworks.localhost', 'F', '2002-09-09', '2025-12-16', true, false)
ON CONFLICT (email) DO NOTHING;

INSERT INTO exercise (name, category, unit, description)
VALUES
  ('Back Squat', 'weightlifting', 'load', 'Barbell on the upper back, hips below parallel.'),
  ('Front Squat', 'weightlifting', 'load', 'Barbell in the front rack.'),
  ('Deadlift', 'weightlifting', 'load', ''),
  ('Clean and Jerk', 'weightlifting', 'load', ''),
  ('Snatch', 'weightlifting', 'load', ''),
  ('Thruster', 'weightlifting', 'load', 'Front squat into a push press.'),
  ('Strict Press', 'weightlifting', 'load', ''),
  ('Pull-up', 'gymnastics', 'reps', 'Kipping allowed unless the workout says strict.'),
  ('Push-up', 'gymnastics', 'reps', ''),
  ('Air Squat', 'gymnastics', 'reps', ''),
  ('Handstand Push-up', 'gymnastics', 'reps', ''),
  ('Handstand Hold', 'gymnastics', 'time', ''),
  ('Toes-to-bar', 'gymnastics', 'reps', ''),
  ('Burpee', 'gymnastics', 'reps', ''),
  ('Double-under', 'monostructural', 'reps', ''),
  ('Row', 'monostructural', 'distance', 'Concept2 rower.'),
  ('Assault Bike', 'monostructural', 'calories', ''),
  ('Run', 'monostructural', 'distance', ''),
  ('Wall Ball', 'other', 'reps', '9 kg / 6 kg to a 3 m / 2.7 m target.'),
  ('Farmer Carry', 'strongman', 'distance', '')
ON CONFLICT ((lower(name))) DO NOTHING;

-- One workout of every score type.
INSERT INTO workout (name, description, scheduled_on, track, score_type, time_cap_seconds, reps_per_round, scaling_levels, tiebreak_scheme)
SELECT v.* FROM (VALUES
  ('Fran', '21-15-9 thrusters (43/30 kg) and pull-ups.', DATE '2026-01-05', 'main', 'time', 600, 90, ARRAY['rx', 'scaled']::varchar(12)[], 'none'),
  ('Cindy', 'AMRAP 20: 5 pull-ups, 10 push-ups, 15 air squats.', DATE '2026-01-06', 'main', 'rounds_reps', 1200, 30, ARRAY['rx_plus', 'rx', 'scaled']::varchar(12)[], 'none'),
  ('Max Unbroken Pull-ups', 'One set, as many as possible.', DATE '2026-01-07', 'gymnastics', 'reps', NULL, NULL, ARRAY['rx']::varchar(12)[], 'none'),
  ('Back Squat 1RM', 'Build to a one-rep max in 20 minutes.', DATE '2026-01-08', 'strength', 'load', NULL, NULL, ARRAY['rx']::varchar(12)[], 'none'),
  ('Bike Max Calories', '2 minutes on the Assault Bike.', DATE '2026-01-09', 'engine', 'calories', 120, NULL, ARRAY['rx', 'scaled']::varchar(12)[], 'none'),
  ('10-Minute Row', 'Max distance in 10 minutes.', DATE '2026-01-10', 'engine', 'distance', 600, NULL, ARRAY['rx']::varchar(12)[], 'none'),
  ('Partner Games', 'Points for each station.', DATE '2026-01-11', 'community', 'points', NULL, NULL, ARRAY['rx', 'scaled']::varchar(12)[], 'none'),
  ('60 s Handstand Hold', 'Pass: a 60-second freestanding hold.', DATE '2026-01-12', 'skills', 'pass_fail', NULL, NULL, ARRAY['rx', 'scaled']::varchar(12)[], 'none'),
  ('Mobility Flow', 'Unscored recovery session.', DATE '2026-01-12', 'recovery', 'none', NULL, NULL, ARRAY['rx']::varchar(12)[], 'none'),
  ('Chipper 26.1', 'For time, 15 min cap: 40 wall balls, 30 toes-to-bar, 20 burpees, 10 clean and jerks. Tiebreak: time at the end of the toes-to-bar.', DATE '2026-01-13', 'main', 'time', 900, 100, ARRAY['rx', 'scaled', 'foundations']::varchar(12)[], 'time')
) AS v (name, description, scheduled_on, track, score_type, time_cap_seconds, reps_per_round, scaling_levels, tiebreak_scheme)
WHERE NOT EXISTS (SELECT 1 FROM workout w WHERE w.name = v.name AND w.scheduled_on = v.scheduled_on);

INSERT INTO workout_exercise (workout_id, exercise_id, position, prescription, rx_load_grams, scaled_load_grams)
SELECT w.id, e.id, v.position, v.prescription, v.rx, v.scaled
  FROM (VALUES
    ('Fran', 'Thruster', 1, '21-15-9', 43000, 30000),
    ('Fran', 'Pull-up', 2, '21-15-9', NULL, NULL),
    ('Cindy', 'Pull-up', 1, '5', NULL, NULL),
    ('Cindy', 'Push-up', 2, '10', NULL, NULL),
    ('Cindy', 'Air Squat', 3, '15', NULL, NULL),
    ('Max Unbroken Pull-ups', 'Pull-up', 1, '1 set', NULL, NULL),
    ('Back Squat 1RM', 'Back Squat', 1, '1RM', NULL, NULL),
    ('Bike Max Calories', 'Assault Bike', 1, '2:00', NULL, NULL),
    ('10-Minute Row', 'Row', 1, '10:00', NULL, NULL),
    ('60 s Handstand Hold', 'Handstand Hold', 1, '60 s', NULL, NULL),
    ('Chipper 26.1', 'Wall Ball', 1, '40', NULL, NULL),
    ('Chipper 26.1', 'Toes-to-bar', 2, '30', NULL, NULL),
    ('Chipper 26.1', 'Burpee', 3, '20', NULL, NULL),
    ('Chipper 26.1', 'Clean and Jerk', 4, '10', 61000, 43000)
  ) AS v (workout, exercise, position, prescription, rx, scaled)
  JOIN workout w ON w.name = v.workout
  JOIN exercise e ON lower(e.name) = lower(v.exercise)
ON CONFLICT (workout_id, position) DO NOTHING;

-- Results. n is a member's place in email order, so every machine gets the same numbers.
-- Members 4 and 5 tie exactly on Fran (shared rank); every 7th member is time-capped.
WITH m AS (SELECT id, row_number() OVER (ORDER BY email) AS n FROM member WHERE email LIKE '%@ironworks.localhost' AND is_active),
     -- The first two weeks' workouts only: on a database seeded before, the later weeks' workouts (and any
     -- a developer made) exist too, and have results of their own below, or none.
     w AS (SELECT id, name, scheduled_on FROM workout WHERE scheduled_on BETWEEN DATE '2026-01-05' AND DATE '2026-01-13')
INSERT INTO participation (workout_id, member_id, scaling_level, status, score_value, reps_completed, tiebreak_ms, performed_on, recorded_by)
SELECT w.id, m.id, r.scaling_level, r.status, r.score_value, r.reps_completed, r.tiebreak_ms, w.scheduled_on, 'seed'
  FROM m CROSS JOIN w
  CROSS JOIN LATERAL (
    SELECT
      CASE
        WHEN w.name = 'Cindy' AND m.n <= 3 THEN 'rx_plus'
        WHEN w.name = 'Chipper 26.1' AND m.n % 5 = 0 THEN 'foundations'
        WHEN w.name IN ('Fran', 'Cindy', 'Bike Max Calories', 'Partner Games', '60 s Handstand Hold', 'Chipper 26.1') AND m.n % 3 = 0 THEN 'scaled'
        ELSE 'rx'
      END AS scaling_level,
      CASE WHEN w.name IN ('Fran', 'Chipper 26.1') AND m.n % 7 = 0 THEN 'capped'
           WHEN w.name = 'Partner Games' AND m.n = 22 THEN 'withdrawn'
           ELSE 'finished' END AS status,
      CASE
        WHEN w.name IN ('Fran', 'Chipper 26.1') AND m.n % 7 = 0 THEN NULL
        WHEN w.name = 'Fran' AND m.n IN (4, 5) THEN 245000
        WHEN w.name = 'Fran' THEN 150000 + (m.n * 7919 % 300) * 1000 + m.n * 37
        WHEN w.name = 'Chipper 26.1' THEN 540000 + (m.n * 104729 % 330) * 1000
        WHEN w.name = 'Cindy' THEN (14 + m.n * 31 % 11) * 100000 + (m.n * 13 % 30)
        WHEN w.name = 'Max Unbroken Pull-ups' THEN 5 + m.n * 17 % 31
        WHEN w.name = 'Back Squat 1RM' THEN (60 + m.n * 23 % 90) * 1000 + (m.n % 2) * 500
        WHEN w.name = 'Bike Max Calories' THEN 20 + m.n * 7 % 25
        WHEN w.name = '10-Minute Row' THEN (2100 + m.n * 41 % 700) * 1000
        WHEN w.name = 'Partner Games' AND m.n = 22 THEN NULL
        WHEN w.name = 'Partner Games' THEN 50 + m.n * 19 % 60
        WHEN w.name = '60 s Handstand Hold' THEN CASE WHEN m.n % 4 = 0 THEN 0 ELSE 1 END
        ELSE NULL
      END AS score_value,
      CASE WHEN w.name = 'Fran' AND m.n % 7 = 0 THEN 40 + m.n % 30
           WHEN w.name = 'Chipper 26.1' AND m.n % 7 = 0 THEN 60 + m.n % 35 END AS reps_completed,
      CASE WHEN w.name = 'Chipper 26.1' THEN 300000 + (m.n * 611 % 240) * 1000 END AS tiebreak_ms
  ) AS r
 WHERE m.n <= 22
ON CONFLICT (workout_id, member_id) DO NOTHING;

-- A second round of programming from the benchmark library (V5), so members' pages have progress
-- to chart: Fran again a fortnight later, a 5RM and a heavier 1RM day.
INSERT INTO workout (name, description, scheduled_on, track, score_type, time_cap_seconds, reps_per_round, rep_max, benchmark_id)
SELECT b.name, b.description, v.scheduled_on, v.track, b.score_type, b.time_cap_seconds, b.reps_per_round, b.rep_max, b.id
  FROM (VALUES ('Fran', DATE '2026-01-19', 'main'),
               ('Back Squat 5RM', DATE '2026-01-20', 'strength'),
               ('Back Squat 1RM', DATE '2026-01-22', 'strength')) AS v (benchmark, scheduled_on, track)
  JOIN benchmark b ON lower(b.name) = lower(v.benchmark)
 WHERE NOT EXISTS (SELECT 1 FROM workout w WHERE w.name = b.name AND w.scheduled_on = v.scheduled_on);

INSERT INTO workout_exercise (workout_id, exercise_id, position, prescription, rx_load_grams, scaled_load_grams)
SELECT w.id, bm.exercise_id, bm.position, bm.prescription, bm.rx_load_grams, bm.scaled_load_grams
  FROM workout w JOIN benchmark_movement bm ON bm.benchmark_id = w.benchmark_id
 WHERE w.scheduled_on BETWEEN DATE '2026-01-19' AND DATE '2026-01-22'
ON CONFLICT (workout_id, position) DO NOTHING;

-- The first week's workouts are library benchmarks too, and the strength day is a 1RM.
UPDATE workout w SET benchmark_id = b.id
  FROM benchmark b
 WHERE w.benchmark_id IS NULL AND w.name IN ('Fran', 'Cindy', 'Back Squat 1RM') AND lower(b.name) = lower(w.name);
UPDATE workout SET rep_max = 1 WHERE name = 'Back Squat 1RM' AND rep_max IS NULL;

-- Results for the second round: the first 12 members, Fran a little faster, squats a little heavier.
WITH m AS (SELECT id, row_number() OVER (ORDER BY email) AS n FROM member WHERE email LIKE '%@ironworks.localhost' AND is_active)
INSERT INTO participation (workout_id, member_id, scaling_level, status, score_value, performed_on, recorded_by)
SELECT w.id, m.id, CASE WHEN w.name = 'Fran' AND m.n % 3 = 0 THEN 'scaled' ELSE 'rx' END, 'finished',
       CASE
         WHEN w.name = 'Fran' THEN 140000 + (m.n * 7919 % 300) * 1000 + m.n * 41
         WHEN w.name = 'Back Squat 5RM' THEN (50 + m.n * 23 % 90) * 1000
         ELSE (62 + m.n * 23 % 90) * 1000 + (m.n % 2) * 500
       END,
       w.scheduled_on, 'seed'
  FROM m JOIN workout w ON w.scheduled_on BETWEEN DATE '2026-01-19' AND DATE '2026-01-22' AND w.benchmark_id IS NOT NULL
 WHERE m.n <= 12
ON CONFLICT (workout_id, member_id) DO NOTHING;

-- Personal records from the strength days: each member's best back squat.
INSERT INTO personal_record (member_id, exercise_id, value, participation_id, achieved_on)
SELECT DISTINCT ON (p.member_id) p.member_id, e.id, p.score_value, p.id, p.performed_on
  FROM participation p
  JOIN workout w ON w.id = p.workout_id AND w.name IN ('Back Squat 1RM', 'Back Squat 5RM')
  JOIN exercise e ON lower(e.name) = 'back squat'
 WHERE p.status = 'finished' AND p.score_value IS NOT NULL
 ORDER BY p.member_id, p.score_value DESC, p.performed_on
ON CONFLICT (member_id, exercise_id) DO UPDATE
   SET value = EXCLUDED.value, participation_id = EXCLUDED.participation_id, achieved_on = EXCLUDED.achieved_on
 WHERE personal_record.value < EXCLUDED.value;

-- The gym's own logins (password "fitbuddy" for each; never used outside local/test): its owner, a
-- coach, and an athlete who is the member Ava Alvarez. They log in by e-mail on ironworks.localhost.
INSERT INTO gym_login (email, password, name, role, member_id)
SELECT v.email, 'pbkdf2_sha256$1000000$fitbuddylocalseed$bjfbf5BdL9gi87bhlJRffmODJSBfjweN1iQzbaxlZso=', v.name, v.role,
       (SELECT m.id FROM member m WHERE m.email = v.member_email)
  FROM (VALUES ('owner@ironworks.localhost', 'Olivia Owens', 'owner', NULL),
               ('coach@ironworks.localhost', 'Carlos Coach', 'coach', NULL),
               ('ava.alvarez@ironworks.localhost', 'Ava Alvarez', 'athlete', 'ava.alvarez@ironworks.localhost'))
       AS v (email, name, role, member_email)
ON CONFLICT (email) DO NOTHING;

-- The weekly class schedule (gym/classes): a 6 am, a noon and an evening class on weekdays, coached
-- by Carlos, and a Saturday team class. Athletes book them from /me/classes/.
INSERT INTO class_schedule (name, weekday, starts_at, length_minutes, coach_id, capacity, track, active_from)
SELECT v.name, d.weekday, v.starts_at::time, v.length_minutes,
       (SELECT l.id FROM gym_login l WHERE l.email = 'coach@ironworks.localhost'), v.capacity, 'main', DATE '2025-01-01'
  FROM (VALUES ('6 am WOD', '06:00', 60, 16), ('Noon WOD', '12:00', 45, 12), ('Evening WOD', '17:30', 60, 20))
       AS v (name, starts_at, length_minutes, capacity)
 CROSS JOIN generate_series(1, 5) AS d (weekday)
 WHERE NOT EXISTS (SELECT 1 FROM class_schedule s WHERE s.name = v.name AND s.weekday = d.weekday);
INSERT INTO class_schedule (name, weekday, starts_at, length_minutes, capacity, track, active_from)
SELECT 'Saturday Team WOD', 6, TIME '09:00', 90, 30, 'main', DATE '2025-01-01'
 WHERE NOT EXISTS (SELECT 1 FROM class_schedule s WHERE s.name = 'Saturday Team WOD');
