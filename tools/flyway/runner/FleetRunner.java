package app.fitbuddy.flyway;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationInfoService;
import org.flywaydb.core.api.MigrationState;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.core.api.output.MigrateResult;
import org.flywaydb.core.api.output.ValidateOutput;
import org.flywaydb.core.api.output.ValidateResult;
import org.flywaydb.core.internal.exception.FlywayMigrateException;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Many databases, one JVM: FitBuddy's fleet runner over Flyway's own Java API.
 *
 * <p>Standard input carries JSON lines: first the run's settings
 * {@code {"command": "migrate"|"check"|"info", "locations": [...], "schemas": [...], "threads": N,
 * "stopOnError": bool, "connectRetries": N, "ignoreMigrationPatterns": [...]}}, then one target per
 * line {@code {"id": "...", "url": "jdbc:postgresql://...", "user": "...", "password": "..."}}.
 * Passwords therefore never appear on a command line. Each target is handled by a bounded thread
 * pool and answered by one JSON line on standard output, in completion order. With
 * {@code stopOnError}, a failure stops new databases from starting (those already running finish)
 * and the rest are answered {@code "outcome": "not_started"}. Flyway's own log goes to standard
 * error, never to standard output.
 */
public final class FleetRunner {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final PrintStream out;
    private final JsonNode settings;
    private final AtomicBoolean stopped = new AtomicBoolean(false);
    private final ThreadLocal<FluentConfiguration> configurations = ThreadLocal.withInitial(this::configure);

    private FleetRunner(PrintStream out, JsonNode settings) {
        this.out = out;
        this.settings = settings;
    }

    public static void main(String[] args) throws Exception {
        PrintStream results = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        System.setOut(System.err); // anything Flyway or a driver prints stays off the results stream
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String first = in.readLine();
        if (first == null) {
            System.err.println("fleet runner: no settings line on standard input");
            System.exit(2);
        }
        FleetRunner runner = new FleetRunner(results, JSON.readTree(first));
        int threads = Math.max(1, runner.settings.path("threads").asInt(1));
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode target = JSON.readTree(line);
            pool.submit(() -> runner.handle(target));
        }
        pool.shutdown();
        pool.awaitTermination(365, TimeUnit.DAYS);
        results.flush();
    }

    private void handle(JsonNode target) {
        ObjectNode result = JSON.createObjectNode();
        result.put("id", target.path("id").asString());
        if (stopped.get()) {
            result.put("outcome", "not_started");
            emit(result);
            return;
        }
        long started = System.nanoTime();
        try {
            String command = settings.path("command").asString();
            if ("migrate".equals(command) && target.path("expectCurrent").asBoolean(false) && alreadyCurrent(target, result)) {
                result.put("millis", (System.nanoTime() - started) / 1_000_000);
                emit(result);
                return;
            }
            // One configuration per thread, built once: Flyway's configuration is costly to build
            // (it copies itself through Jackson), and only the data source differs per database.
            FluentConfiguration configuration = configurations.get();
            configuration.dataSource(target.path("url").asString(), target.path("user").asString(), target.path("password").asString());
            Flyway flyway = configuration.load();
            switch (command) {
                case "migrate" -> migrate(flyway, result);
                case "check" -> check(flyway, result);
                case "info" -> info(flyway, result);
                default -> throw new IllegalArgumentException("unknown command " + settings.path("command"));
            }
        } catch (FlywayMigrateException e) {
            // The code the CLI reports (e.g. FAILED_VERSIONED_MIGRATION), and where the database stayed.
            result.put("outcome", "failed");
            result.put("errorCode", String.valueOf(e.getMigrationErrorCode()));
            result.put("message", message(e));
            result.put("sqlState", e.getSqlState());
            MigrateResult partial = e.getErrorResult();
            if (partial != null) {
                result.put("initialVersion", partial.initialSchemaVersion);
                result.put("version", partial.targetSchemaVersion != null ? partial.targetSchemaVersion : partial.initialSchemaVersion);
            }
        } catch (FlywayException e) {
            result.put("outcome", "failed");
            result.put("errorCode", e.getErrorCode() == null ? "FAULT" : e.getErrorCode().toString());
            result.put("message", message(e));
        } catch (RuntimeException e) {
            result.put("outcome", "failed");
            result.put("errorCode", "FAULT");
            result.put("message", message(e));
        }
        result.put("millis", (System.nanoTime() - started) / 1_000_000);
        if ("failed".equals(result.path("outcome").asString()) && settings.path("stopOnError").asBoolean(false)) {
            stopped.set(true);
        }
        emit(result);
    }

    private FluentConfiguration configure() {
        List<String> ignore = strings(settings.path("ignoreMigrationPatterns"));
        if ("check".equals(settings.path("command").asString())) {
            ignore.add("*:pending"); // a check tells "behind" from drift itself: pending is not a validation error
        }
        return Flyway.configure()
                // Flyway's session-level lock instead of its transactional one: Flyway then works
                // on one connection per database instead of two (half the connection set-ups and
                // backends), and scripts that cannot run in a transaction (CREATE INDEX
                // CONCURRENTLY) do not hang on the lock.
                .configuration(Map.of("flyway.postgresql.transactional.lock", "false"))
                .schemas(strings(settings.path("schemas")).toArray(new String[0]))
                .locations(strings(settings.path("locations")).toArray(new String[0]))
                .ignoreMigrationPatterns(ignore.toArray(new String[0]))
                .connectRetries(settings.path("connectRetries").asInt(0))
                .connectRetriesInterval(10)
                .cleanDisabled(true)
                .loggers("slf4j"); // slf4j-nop: results carry the errors; nothing else is printed
    }

    /**
     * The quick answer for a database the registry already shows at the latest version: one
     * connection and one query on the schema history. It holds only if every versioned script on
     * disk is applied, successfully, with the checksum of the file (the checksums come from the
     * settings line), and nothing else is; any difference, or any error, and Flyway's own migrate
     * runs (and validates) as usual.
     */
    private boolean alreadyCurrent(JsonNode target, ObjectNode result) {
        JsonNode resolved = settings.path("resolved");
        if (!resolved.isArray() || resolved.isEmpty()) {
            return false;
        }
        Map<String, Integer> expected = new HashMap<>();
        String latest = null;
        for (JsonNode script : resolved) {
            expected.put(script.path("version").asString(), script.path("checksum").asInt());
            latest = script.path("version").asString();
        }
        String schema = strings(settings.path("schemas")).get(0).replace("\"", "\"\"");
        String query = "SELECT version, checksum, success FROM \"" + schema + "\".flyway_schema_history WHERE version IS NOT NULL";
        Map<String, Integer> applied = new HashMap<>();
        try (Connection connection = DriverManager.getConnection(
                        target.path("url").asString(), target.path("user").asString(), target.path("password").asString());
                Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery(query)) {
            while (rows.next()) {
                if (!rows.getBoolean(3)) {
                    return false;
                }
                int checksum = rows.getInt(2);
                applied.put(rows.getString(1), rows.wasNull() ? null : checksum);
            }
        } catch (SQLException e) {
            return false;
        }
        if (!applied.equals(expected)) {
            return false;
        }
        result.put("outcome", "succeeded");
        result.put("initialVersion", latest);
        result.put("version", latest);
        result.put("migrationsExecuted", 0);
        result.put("quick", true);
        return true;
    }

    private static void migrate(Flyway flyway, ObjectNode result) {
        MigrateResult migrated = flyway.migrate();
        result.put("outcome", migrated.success ? "succeeded" : "failed");
        result.put("initialVersion", migrated.initialSchemaVersion);
        result.put("version", migrated.targetSchemaVersion != null ? migrated.targetSchemaVersion : migrated.initialSchemaVersion);
        result.put("migrationsExecuted", migrated.migrationsExecuted);
    }

    /** Drift: current, behind, ahead, failed, checksum_mismatch, drift (another validation error). */
    private static void check(Flyway flyway, ObjectNode result) {
        MigrationInfoService service = flyway.info();
        MigrationInfo current = service.current();
        result.put("version", current == null || current.getVersion() == null ? null : current.getVersion().getVersion());
        int pending = 0;
        boolean failed = false;
        boolean ahead = false;
        for (MigrationInfo migration : service.all()) {
            MigrationState state = migration.getState();
            if (state == MigrationState.PENDING) {
                pending++;
            }
            if (state.isApplied() && state.isFailed()) {
                failed = true;
            }
            if (state == MigrationState.FUTURE_SUCCESS || state == MigrationState.FUTURE_FAILED) {
                ahead = true;
            }
        }
        result.put("pending", pending);
        ValidateResult validated = flyway.validateWithResult();
        String state;
        if (failed) {
            state = "failed";
        } else if (!validated.validationSuccessful) {
            ArrayNode problems = result.putArray("problems");
            boolean checksum = false;
            for (ValidateOutput invalid : validated.invalidMigrations) {
                String code = invalid.errorDetails == null ? "VALIDATION" : String.valueOf(invalid.errorDetails.errorCode);
                checksum |= "CHECKSUM_MISMATCH".equals(code);
                ObjectNode problem = problems.addObject();
                problem.put("version", invalid.version);
                problem.put("errorCode", code);
                problem.put("message", invalid.errorDetails == null ? "" : invalid.errorDetails.errorMessage);
            }
            state = checksum ? "checksum_mismatch" : "drift";
            result.put("errorCode", checksum ? "CHECKSUM_MISMATCH" : "VALIDATION");
            result.put("message", validated.getAllErrorMessages());
        } else if (ahead) {
            state = "ahead";
        } else if (pending > 0) {
            state = "behind";
        } else {
            state = "current";
        }
        result.put("outcome", "succeeded");
        result.put("state", state);
    }

    /** What migrate would do: the current version and the scripts still to run. */
    private static void info(Flyway flyway, ObjectNode result) {
        MigrationInfoService service = flyway.info();
        MigrationInfo current = service.current();
        result.put("version", current == null || current.getVersion() == null ? null : current.getVersion().getVersion());
        ArrayNode pending = result.putArray("pendingScripts");
        for (MigrationInfo migration : service.pending()) {
            pending.add(migration.getScript());
        }
        result.put("outcome", "succeeded");
    }

    private static String message(Throwable e) {
        String text = e.getMessage();
        return text == null ? e.getClass().getSimpleName() : text.strip();
    }

    private static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        for (JsonNode value : array) {
            values.add(value.asString());
        }
        return values;
    }

    private void emit(ObjectNode result) {
        String line = JSON.writeValueAsString(result);
        synchronized (out) {
            out.println(line);
            out.flush();
        }
    }
}
