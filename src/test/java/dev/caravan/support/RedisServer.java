package dev.caravan.support;

import java.io.File;
import java.io.IOException;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * A real redis-server of the test's own, on a free loopback port, so tests never share or disturb state
 * (CI installs the Debian package). Stopped with close().
 */
public final class RedisServer implements AutoCloseable {

    private final Process process;
    private final int port;

    private RedisServer(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    public static RedisServer start() {
        return start(null);
    }

    /** A server that requires this password (AUTH); null: none. */
    public static RedisServer start(String password) {
        int port = GatewayInstance.freePort();
        try {
            java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("redis-server", "--port",
                    String.valueOf(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"));
            if (password != null) {
                command.addAll(java.util.List.of("--requirepass", password));
            }
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(new File(System.getProperty("java.io.tmpdir"), "redis-test-" + port + ".log"))
                    .start();
            RedisServer server = new RedisServer(process, port);
            server.awaitListening(Duration.ofSeconds(10));
            return server;
        } catch (IOException e) {
            throw new IllegalStateException("redis-server could not be started (is it installed?)", e);
        }
    }

    private void thawQuietly() {
        try {
            thaw();
        } catch (RuntimeException ignored) {
            // not frozen, or already gone
        }
    }

    public int port() {
        return port;
    }

    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    /** Stops the server process (SIGSTOP): it keeps its connections but answers nothing, as a stalled Redis does. */
    public void freeze() {
        signal("-STOP");
    }

    /** Lets a frozen server run again (SIGCONT). */
    public void thaw() {
        signal("-CONT");
    }

    private void signal(String signal) {
        try {
            int exit = new ProcessBuilder("kill", signal, Long.toString(process.pid())).inheritIO().start().waitFor();
            if (exit != 0) {
                throw new IllegalStateException("kill " + signal + " exited with " + exit);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void awaitListening(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("redis-server exited with " + process.exitValue());
                }
                LockSupport.parkNanos(5_000_000);
            }
        }
        throw new IllegalStateException("redis-server did not listen on " + port + " within " + timeout);
    }

    @Override
    public void close() {
        thawQuietly();
        process.destroy();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
