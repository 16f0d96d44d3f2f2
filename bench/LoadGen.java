// Caravan benchmark load generator: JDK only, one file, for bench/overhead.
//
//   java bench/LoadGen.java freeport [--count N]
//   java bench/LoadGen.java wait     --url URL [--body JSON] [--timeout-s S] [--pid PID]
//   java bench/LoadGen.java overhead --direct HOST:PORT --gateway HOST:PORT [options]   (latency, throughput, TTFT)
//   java bench/LoadGen.java soak     --target HOST:PORT --model M --streams N --pid PID [options]
//
// Latency figures come from a hand-written HTTP/1.1 client on plain java.net.Socket: a fixed number of
// persistent (keep-alive) connections, one thread each, timed with System.nanoTime into preallocated arrays,
// percentiles by sorting. The soak uses one NIO selector thread for all of its streams (no thread per stream).
// Figures go to stdout; "key=value" lines for the final summary go to the --results file.

import java.io.Closeable;
import java.io.EOFException;
import java.io.FileWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

public final class LoadGen {

    private LoadGen() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0) usage();
        Map<String, String> o = options(args);
        switch (args[0]) {
            case "freeport" -> freePorts(integer(o, "count", 1));
            case "wait" -> System.exit(waitFor(o) ? 0 : 1);
            case "overhead" -> overhead(o);
            case "soak" -> soak(o);
            default -> usage();
        }
    }

    private static void usage() {
        System.err.println("usage: LoadGen freeport|wait|overhead|soak [--option value]... (see the comment at the top)");
        System.exit(2);
    }

    // ------------------------------------------------------------------------------------------------------------
    // small helpers

    private static Map<String, String> options(String[] args) {
        Map<String, String> o = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --name value at: " + args[i]);
            }
            o.put(args[i].substring(2), args[++i]);
        }
        return o;
    }

    private static int integer(Map<String, String> o, String key, int fallback) {
        String v = o.get(key);
        return v == null || v.isBlank() ? fallback : Integer.parseInt(v.trim());
    }

    private static double decimal(Map<String, String> o, String key, double fallback) {
        String v = o.get(key);
        return v == null || v.isBlank() ? fallback : Double.parseDouble(v.trim());
    }

    private static String required(Map<String, String> o, String key) {
        String v = o.get(key);
        if (v == null || v.isBlank()) throw new IllegalArgumentException("missing --" + key);
        return v;
    }

    private static InetSocketAddress address(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }

    private static String fmt(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }

    private static void freePorts(int count) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                ServerSocket s = new ServerSocket();
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress("127.0.0.1", 0));
                sockets.add(s);
            }
            StringBuilder sb = new StringBuilder();
            for (ServerSocket s : sockets) sb.append(sb.length() == 0 ? "" : " ").append(s.getLocalPort());
            System.out.println(sb);
        } finally {
            for (ServerSocket s : sockets) s.close();
        }
    }

    private static boolean alive(long pid) {
        return pid <= 0 || ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** Polls a URL until it answers 200 (GET, or POST of --body as JSON); bounded by --timeout-s. */
    private static boolean waitFor(Map<String, String> o) throws InterruptedException {
        String url = required(o, "url");
        String body = o.get("body");
        long pid = integer(o, "pid", 0);
        long deadline = System.nanoTime() + (long) (decimal(o, "timeout-s", 60) * 1e9);
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2)).build();
        String last = "no answer";
        int attempts = 0;
        while (System.nanoTime() < deadline && attempts++ < 10_000) {
            if (!alive(pid)) {
                System.err.println("wait: process " + pid + " exited (" + url + ": " + last + ")");
                return false;
            }
            try {
                HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
                if (body != null) {
                    rb.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
                }
                HttpResponse<String> r = client.send(rb.build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) return true;
                String text = r.body() == null ? "" : r.body();
                last = "HTTP " + r.statusCode() + " " + text.substring(0, Math.min(300, text.length()));
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(200);
        }
        System.err.println("wait: " + url + " not ready: " + last);
        return false;
    }

    /** utime + stime of a process, in clock ticks (USER_HZ); -1 when unreadable. */
    private static long cpuTicks(long pid) {
        if (pid <= 0) return -1;
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);   // fields 14 and 15 of proc(5)
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Per-thread utime + stime (ticks) of a process, by thread id, with the thread's name; empty when unreadable. */
    private static Map<String, Object[]> threadTicks(long pid) {
        Map<String, Object[]> out = new HashMap<>();
        if (pid <= 0) return out;
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    out.put(task.getFileName().toString(), new Object[] {name, Long.parseLong(f[11]) + Long.parseLong(f[12])});
                } catch (IOException | RuntimeException gone) {
                    // the thread ended meanwhile
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // process gone
        }
        return out;
    }

    /** The thread that used the most CPU between two snapshots: {name, ticks}. */
    private static Object[] busiest(Map<String, Object[]> before, Map<String, Object[]> after) {
        Object[] best = {"-", 0L};
        for (Map.Entry<String, Object[]> e : after.entrySet()) {
            Object[] b = before.get(e.getKey());
            long delta = (Long) e.getValue()[1] - (b == null ? 0L : (Long) b[1]);
            if (delta > (Long) best[1]) best = new Object[] {e.getValue()[0], delta};
        }
        return best;
    }

    /** {VmRSS kB, Threads} from /proc/PID/status; {-1,-1} when unreadable. */
    private static long[] rssAndThreads(long pid) {
        long rss = -1;
        long threads = -1;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) rss = Long.parseLong(line.replaceAll("[^0-9]", ""));
                else if (line.startsWith("Threads:")) threads = Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (IOException | RuntimeException ignored) {
            // process gone
        }
        return new long[] {rss, threads};
    }

    /** Nearest-rank percentile of a sorted array. */
    private static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) return -1;
        int idx = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
    }

    private static long micros(long nanos) {
        return Math.round(nanos / 1000.0);
    }

    /** key=value lines for the shell's summary table. */
    private static final class Results {
        private final String file;
        private final Map<String, String> values = new LinkedHashMap<>();

        Results(String file) {
            this.file = file;
        }

        void put(String key, Object value) {
            values.put(key, String.valueOf(value));
        }

        void flush() throws IOException {
            if (file == null) return;
            try (PrintWriter w = new PrintWriter(new FileWriter(file, true))) {
                values.forEach((k, v) -> w.println(k + "=" + v));
            }
            values.clear();
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // minimal blocking HTTP/1.1 client

    private static byte[] chatRequest(InetSocketAddress addr, String model, boolean stream) {
        String body = "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}],\"max_tokens\":16"
                + (stream ? ",\"stream\":true" : "") + "}";
        return httpPost(addr, "/v1/chat/completions", body, stream ? "text/event-stream" : "application/json", false);
    }

    private static byte[] httpPost(InetSocketAddress addr, String path, String body, String accept, boolean close) {
        byte[] payload = body.getBytes(StandardCharsets.UTF_8);
        String head = "POST " + path + " HTTP/1.1\r\n"
                + "Host: " + addr.getHostString() + ":" + addr.getPort() + "\r\n"
                + "User-Agent: caravan-bench\r\n"
                + "Content-Type: application/json\r\n"
                + "Accept: " + accept + "\r\n"
                + (close ? "Connection: close\r\n" : "")
                + "Content-Length: " + payload.length + "\r\n\r\n";
        byte[] h = head.getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = Arrays.copyOf(h, h.length + payload.length);
        System.arraycopy(payload, 0, all, h.length, payload.length);
        return all;
    }

    /** Watches an SSE body line by line: first non-empty content delta, [DONE], error events. */
    private static final class Sse {
        private static final byte[] CONTENT = "\"content\":".getBytes(StandardCharsets.ISO_8859_1);
        private final byte[] line = new byte[1 << 16];
        private int len;
        long firstTokenNanos;
        boolean done;
        boolean error;
        int events;

        void reset() {
            len = 0;
            firstTokenNanos = 0;
            done = false;
            error = false;
            events = 0;
        }

        void feed(byte[] b, int off, int n) {
            for (int i = off, end = off + n; i < end; i++) {
                byte c = b[i];
                if (c == '\n') {
                    onLine();
                    len = 0;
                } else if (len < line.length) {
                    line[len++] = c;
                }
            }
        }

        private void onLine() {
            if (len > 0 && line[len - 1] == '\r') len--;
            if (len < 5 || line[0] != 'd' || line[1] != 'a' || line[2] != 't' || line[3] != 'a' || line[4] != ':') return;
            events++;
            int p = 5;
            if (p < len && line[p] == ' ') p++;
            if (startsWith(p, "[DONE]")) {
                done = true;
            } else if (startsWith(p, "{\"error\"")) {
                error = true;
            } else if (firstTokenNanos == 0 && hasContent(p)) {
                firstTokenNanos = System.nanoTime();
            }
        }

        private boolean startsWith(int p, String s) {
            if (len - p < s.length()) return false;
            for (int i = 0; i < s.length(); i++) if (line[p + i] != s.charAt(i)) return false;
            return true;
        }

        /** "content": followed by a non-empty JSON string (the role chunk's "content":"" does not count). */
        private boolean hasContent(int from) {
            outer:
            for (int i = from; i + CONTENT.length < len; i++) {
                for (int j = 0; j < CONTENT.length; j++) if (line[i + j] != CONTENT[j]) continue outer;
                int q = i + CONTENT.length;
                while (q < len && line[q] == ' ') q++;
                if (q + 1 < len && line[q] == '"' && line[q + 1] != '"') return true;
            }
            return false;
        }
    }

    private static final class Conn implements Closeable {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        private final byte[] buf = new byte[1 << 16];
        private int pos;
        private int lim;
        private final StringBuilder sb = new StringBuilder(256);
        boolean reusable = true;
        StringBuilder capture;   // when set, the body is copied here (sanity checks only)

        Conn(InetSocketAddress addr) throws IOException {
            socket = new Socket();
            socket.setTcpNoDelay(true);
            socket.connect(addr, 5000);
            socket.setSoTimeout(30_000);
            in = socket.getInputStream();
            out = socket.getOutputStream();
        }

        private void fill() throws IOException {
            pos = 0;
            lim = 0;
            int n = in.read(buf, 0, buf.length);
            if (n < 0) throw new EOFException("connection closed by the server");
            lim = n;
        }

        private String readLine() throws IOException {
            sb.setLength(0);
            while (true) {
                if (pos == lim) fill();
                byte b = buf[pos++];
                if (b == '\n') {
                    int l = sb.length();
                    if (l > 0 && sb.charAt(l - 1) == '\r') sb.setLength(l - 1);
                    return sb.toString();
                }
                sb.append((char) (b & 0xff));
                if (sb.length() > 65_536) throw new IOException("line too long");
            }
        }

        private void body(long n, Sse sse) throws IOException {
            while (n > 0) {
                if (pos == lim) fill();
                int k = (int) Math.min(n, lim - pos);
                if (sse != null) sse.feed(buf, pos, k);
                if (capture != null) capture.append(new String(buf, pos, k, StandardCharsets.UTF_8));
                pos += k;
                n -= k;
            }
        }

        /** Sends one request and reads the whole response; returns the status. */
        int exchange(byte[] request, Sse sse) throws IOException {
            out.write(request);
            out.flush();
            String status = readLine();
            if (!status.startsWith("HTTP/1.") || status.length() < 12) throw new IOException("bad status line: " + status);
            int code = Integer.parseInt(status.substring(9, 12));
            long contentLength = -1;
            boolean chunked = false;
            boolean close = status.startsWith("HTTP/1.0");
            for (int i = 0; ; i++) {
                if (i > 200) throw new IOException("too many headers");
                String h = readLine();
                if (h.isEmpty()) break;
                int c = h.indexOf(':');
                if (c < 0) continue;
                String name = h.substring(0, c).trim();
                String value = h.substring(c + 1).trim();
                if (name.equalsIgnoreCase("content-length")) contentLength = Long.parseLong(value);
                else if (name.equalsIgnoreCase("transfer-encoding")) chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                else if (name.equalsIgnoreCase("connection")) close = value.equalsIgnoreCase("close");
            }
            if (chunked) {
                for (int i = 0; ; i++) {
                    if (i > 1_000_000) throw new IOException("too many chunks");
                    String line = readLine();
                    int semi = line.indexOf(';');
                    long size = Long.parseLong((semi < 0 ? line : line.substring(0, semi)).trim(), 16);
                    if (size == 0) {
                        for (int t = 0; t < 100 && !readLine().isEmpty(); t++) {
                            // trailers: ignored
                        }
                        break;
                    }
                    body(size, sse);
                    if (!readLine().isEmpty()) throw new IOException("bad chunk end");
                }
            } else if (contentLength >= 0) {
                body(contentLength, sse);
            } else {
                close = true;   // no framing: the body runs to the end of the connection
                try {
                    body(Long.MAX_VALUE, sse);
                } catch (EOFException end) {
                    // expected
                }
            }
            if (close) reusable = false;
            return code;
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // overhead: interleaved direct vs gateway windows

    private record Target(String name, InetSocketAddress addr, byte[] plain, byte[] stream, long pid) {
    }

    /** One timed window against one target: latencies (or TTFTs) in ns, plus totals. */
    private static final class Window {
        long[] values;      // request latency, or TTFT for streams
        long[] totals;      // whole-stream time (streams only)
        int n;
        int errors;
        long elapsedNanos;
        long targetTicks = -1;
        long emulatorTicks = -1;
        boolean capacityHit;
        String busiestThread = "-";
        long busiestTicks = -1;
        final List<String> errorSamples = Collections.synchronizedList(new ArrayList<>());
    }

    private static final class Worker extends Thread {
        private final Target target;
        private final boolean stream;
        private final CountDownLatch ready;
        private final CountDownLatch go;
        private final Window window;
        private final long[] values;
        private final long[] totals;
        volatile long endNanos;
        int n;
        int errors;
        boolean capacityHit;

        Worker(Target target, boolean stream, int capacity, CountDownLatch ready, CountDownLatch go, Window window) {
            super("loadgen-" + target.name());
            setDaemon(true);
            this.target = target;
            this.stream = stream;
            this.ready = ready;
            this.go = go;
            this.window = window;
            this.values = new long[capacity];
            this.totals = stream ? new long[capacity] : null;
        }

        private void error(String what) {
            errors++;
            if (window.errorSamples.size() < 5) window.errorSamples.add(what);
        }

        @Override
        public void run() {
            byte[] request = stream ? target.stream() : target.plain();
            Sse sse = stream ? new Sse() : null;
            Conn conn = null;
            try {
                // connect and send one unmeasured request, so the window times keep-alive requests only
                for (int attempt = 0; attempt < 3 && conn == null; attempt++) {
                    try {
                        conn = new Conn(target.addr());
                        if (sse != null) sse.reset();
                        int code = conn.exchange(request, sse);
                        if (code != 200) error("HTTP " + code + " (first request)");
                        if (!conn.reusable) {
                            conn.close();
                            conn = null;
                        }
                    } catch (IOException e) {
                        error("first request: " + e);
                        if (conn != null) conn.close();
                        conn = null;
                    }
                }
            } finally {
                ready.countDown();
            }
            try {
                go.await();
            } catch (InterruptedException e) {
                return;
            }
            long end = endNanos;
            int consecutiveErrors = 0;
            while (System.nanoTime() < end) {
                if (n == values.length) {
                    capacityHit = true;
                    break;
                }
                try {
                    if (conn == null) conn = new Conn(target.addr());
                    if (sse != null) sse.reset();
                    long t0 = System.nanoTime();
                    int code = conn.exchange(request, sse);
                    long t1 = System.nanoTime();
                    if (code != 200) {
                        error("HTTP " + code);
                    } else if (sse != null && (sse.error || !sse.done || sse.firstTokenNanos == 0)) {
                        error(sse.error ? "error event in stream" : !sse.done ? "stream ended without [DONE]" : "no content token");
                    } else {
                        if (sse != null) {
                            values[n] = sse.firstTokenNanos - t0;
                            totals[n] = t1 - t0;
                        } else {
                            values[n] = t1 - t0;
                        }
                        n++;
                        consecutiveErrors = 0;
                        if (!conn.reusable) {
                            conn.close();
                            conn = null;
                        }
                        continue;
                    }
                    if (!conn.reusable) {
                        conn.close();
                        conn = null;
                    }
                } catch (IOException | RuntimeException e) {
                    error(e.toString());
                    if (conn != null) conn.close();
                    conn = null;
                }
                if (++consecutiveErrors > 1000) break;
                try {
                    Thread.sleep(consecutiveErrors > 10 ? 10 : 1);   // do not spin on a failing target
                } catch (InterruptedException e) {
                    break;
                }
            }
            if (conn != null) conn.close();
        }
    }

    private static Window runWindow(Target target, long emulatorPid, boolean stream, int conns, double seconds)
            throws InterruptedException {
        // generous: 200k requests/s over all connections (a 2-core loopback box does well under that)
        int capacity = (int) Math.min(50_000_000L, (long) Math.ceil((seconds + 1) * 200_000.0 / conns) + 1000);
        Window w = new Window();
        CountDownLatch ready = new CountDownLatch(conns);
        CountDownLatch go = new CountDownLatch(1);
        Worker[] workers = new Worker[conns];
        for (int i = 0; i < conns; i++) {
            workers[i] = new Worker(target, stream, capacity, ready, go, w);
            workers[i].start();
        }
        if (!ready.await(60, TimeUnit.SECONDS)) w.errorSamples.add("connections not ready after 60 s");
        Map<String, Object[]> threads0 = threadTicks(target.pid());
        long t0 = cpuTicks(target.pid());
        long e0 = target.pid() == emulatorPid ? -1 : cpuTicks(emulatorPid);
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        for (Worker worker : workers) worker.endNanos = end;
        go.countDown();
        for (Worker worker : workers) worker.join((long) (seconds * 1000) + 60_000);
        w.elapsedNanos = System.nanoTime() - start;
        long t1 = cpuTicks(target.pid());
        long e1 = target.pid() == emulatorPid ? -1 : cpuTicks(emulatorPid);
        Object[] top = busiest(threads0, threadTicks(target.pid()));
        w.busiestThread = (String) top[0];
        w.busiestTicks = (Long) top[1];
        if (t0 >= 0 && t1 >= 0) w.targetTicks = t1 - t0;
        if (e0 >= 0 && e1 >= 0) w.emulatorTicks = e1 - e0;
        int total = 0;
        for (Worker worker : workers) total += worker.n;
        w.values = new long[total];
        w.totals = stream ? new long[total] : null;
        int at = 0;
        for (Worker worker : workers) {
            System.arraycopy(worker.values, 0, w.values, at, worker.n);
            if (stream) System.arraycopy(worker.totals, 0, w.totals, at, worker.n);
            at += worker.n;
            w.errors += worker.errors;
            w.capacityHit |= worker.capacityHit;
        }
        w.n = total;
        return w;
    }

    /** All windows of one target in one phase, merged. */
    private static final class Series {
        final List<long[]> values = new ArrayList<>();
        final List<long[]> totals = new ArrayList<>();
        long n;
        long errors;
        long elapsedNanos;
        long targetTicks;
        long emulatorTicks;
        boolean ticksKnown = true;
        boolean emulatorTicksKnown = true;
        final List<String> errorSamples = new ArrayList<>();
        long busiestTicks;
        String busiestThread = "-";

        void add(Window w) {
            if (w.busiestTicks > 0) {
                busiestTicks += w.busiestTicks;
                busiestThread = w.busiestThread;
            }
            values.add(w.values);
            if (w.totals != null) totals.add(w.totals);
            n += w.n;
            errors += w.errors;
            elapsedNanos += w.elapsedNanos;
            if (w.targetTicks < 0) ticksKnown = false;
            else targetTicks += w.targetTicks;
            if (w.emulatorTicks < 0) emulatorTicksKnown = false;
            else emulatorTicks += w.emulatorTicks;
            for (String s : w.errorSamples) if (errorSamples.size() < 5) errorSamples.add(s);
        }

        static long[] merged(List<long[]> parts) {
            int size = 0;
            for (long[] p : parts) size += p.length;
            long[] all = new long[size];
            int at = 0;
            for (long[] p : parts) {
                System.arraycopy(p, 0, all, at, p.length);
                at += p.length;
            }
            Arrays.sort(all);
            return all;
        }

        double rps() {
            return elapsedNanos == 0 ? 0 : n / (elapsedNanos / 1e9);
        }
    }

    private static String windowLine(int index, Target t, Window w, long hz, boolean stream) {
        long[] v = w.values.clone();
        Arrays.sort(v);
        String cpu = w.targetTicks >= 0 && w.n > 0
                ? fmt("  cpu/req %s %4.0f µs", t.name().equals("gateway") ? "gw " : "emu", w.targetTicks * 1e6 / hz / w.n) : "";
        if (w.emulatorTicks >= 0 && w.n > 0) cpu += fmt(" + emu %4.0f µs", w.emulatorTicks * 1e6 / hz / w.n);
        if (t.name().equals("gateway") && w.busiestTicks >= 0) {
            cpu += fmt("; busiest gw thread %.0f %% of a core", w.busiestTicks * 1e11 / hz / w.elapsedNanos);
        }
        return fmt("    window %d  %-7s  n=%8d  %8.0f req/s  %s p50=%7d µs  p99=%7d µs  errors=%d%s%s",
                index, t.name(), w.n, w.n / (w.elapsedNanos / 1e9), stream ? "TTFT" : "", micros(percentile(v, 50)),
                micros(percentile(v, 99)), w.errors, cpu, w.capacityHit ? "  (capacity reached)" : "");
    }

    private static void overhead(Map<String, String> o) throws Exception {
        InetSocketAddress directAddr = address(required(o, "direct"));
        InetSocketAddress gatewayAddr = address(required(o, "gateway"));
        long emulatorPid = integer(o, "direct-pid", 0);
        long gatewayPid = integer(o, "gateway-pid", 0);
        String directModel = o.getOrDefault("direct-model", "emu-model");
        String gatewayModel = o.getOrDefault("gateway-model", "bench-model");
        double warmup = decimal(o, "warmup-s", 60);
        double duration = decimal(o, "duration-s", 20);
        int windows = Math.max(1, integer(o, "windows", 4));
        int streamConns = integer(o, "ttft-connections", 1);
        long hz = integer(o, "clk-tck", 100);
        List<Integer> concurrency = new ArrayList<>();
        for (String c : o.getOrDefault("concurrency", "1,32").split(",")) concurrency.add(Integer.parseInt(c.trim()));
        Results results = new Results(o.get("results"));

        Target direct = new Target("direct", directAddr, chatRequest(directAddr, directModel, false),
                chatRequest(directAddr, directModel, true), emulatorPid);
        Target gateway = new Target("gateway", gatewayAddr, chatRequest(gatewayAddr, gatewayModel, false),
                chatRequest(gatewayAddr, gatewayModel, true), gatewayPid);

        // sanity: one request of each kind to each target, shown
        System.out.println("== Sanity: one request of each kind");
        for (Target t : List.of(direct, gateway)) {
            for (boolean stream : new boolean[] {false, true}) {
                try (Conn c = new Conn(t.addr())) {
                    c.capture = new StringBuilder();
                    Sse sse = new Sse();
                    long t0 = System.nanoTime();
                    int code = c.exchange(stream ? t.stream() : t.plain(), sse);
                    long t1 = System.nanoTime();
                    String body = c.capture.toString().replace("\n", "\\n");
                    System.out.println(fmt("  %-7s %-10s HTTP %d  %6d µs  %s", t.name(), stream ? "stream" : "non-stream", code,
                            micros(t1 - t0), stream ? fmt("events=%d done=%s error=%s first-token=%s", sse.events, sse.done,
                                    sse.error, sse.firstTokenNanos != 0) : ""));
                    System.out.println("          " + body.substring(0, Math.min(body.length(), stream ? 220 : 300))
                            + (body.length() > (stream ? 220 : 300) ? " …" : ""));
                    if (code != 200 || (stream && (!sse.done || sse.firstTokenNanos == 0))) {
                        System.out.println("  the " + t.name() + " does not answer as expected: giving up");
                        System.exit(3);
                    }
                }
            }
        }

        // warm-up: both targets, both kinds, mostly the gateway at the measured concurrencies
        int maxConc = Collections.max(concurrency);
        if (warmup > 0) {
            System.out.println(fmt("%n== Warm-up: %.0f s (gateway and direct, non-streaming at %d and 1 connections, streaming)",
                    warmup, maxConc));
            double unit = Math.max(0.5, Math.min(5.0, warmup / 12));
            Object[][] plan = {
                    {gateway, false, maxConc, 2.0}, {direct, false, maxConc, 1.0}, {gateway, true, Math.min(4, maxConc), 1.0},
                    {gateway, false, 1, 0.5}, {direct, true, Math.min(4, maxConc), 0.5}, {direct, false, 1, 0.5}};
            Map<String, long[]> sums = new LinkedHashMap<>();
            long warmEnd = System.nanoTime() + (long) (warmup * 1e9);
            outer:
            for (int round = 0; round < 10_000; round++) {
                for (Object[] step : plan) {
                    double left = (warmEnd - System.nanoTime()) / 1e9;
                    if (left < 0.05) break outer;
                    Target t = (Target) step[0];
                    boolean stream = (Boolean) step[1];
                    int conns = (Integer) step[2];
                    Window w = runWindow(t, emulatorPid, stream, conns, Math.min(left, unit * (Double) step[3]));
                    long[] s = sums.computeIfAbsent(fmt("%-7s %-10s c=%-3d", t.name(), stream ? "stream" : "non-stream", conns),
                            k -> new long[3]);
                    s[0] += w.n;
                    s[1] += w.errors;
                    s[2] += w.elapsedNanos;
                    if (w.errors > 0) System.out.println("    warm-up errors: " + w.errorSamples);
                }
            }
            sums.forEach((k, s) -> System.out.println(fmt("    %s  %9d requests  %8.0f req/s  errors=%d", k, s[0],
                    s[0] / Math.max(1e-9, s[2] / 1e9), s[1])));
        }

        // ABBA order (direct, gateway, gateway, direct, ...) so linear drift hits both paths alike
        List<Boolean> order = new ArrayList<>();
        for (int i = 0; i < windows; i++) {
            boolean directFirst = i % 2 == 0;
            order.add(directFirst);
            order.add(!directFirst);
        }
        double windowSeconds = duration / windows;

        for (int conns : concurrency) {
            System.out.println(fmt("%n== Non-streaming chat, %d connection%s (keep-alive): %d windows × %.2f s per path, interleaved",
                    conns, conns == 1 ? "" : "s", windows, windowSeconds));
            Series d = new Series();
            Series g = new Series();
            int index = 0;
            for (boolean isDirect : order) {
                Target t = isDirect ? direct : gateway;
                Window w = runWindow(t, emulatorPid, false, conns, windowSeconds);
                (isDirect ? d : g).add(w);
                System.out.println(windowLine(++index, t, w, hz, false));
            }
            report("ns_c" + conns, d, g, hz, results, false);
            results.flush();
        }

        System.out.println(fmt("%n== Streaming chat, time to first token, %d connection%s: %d windows × %.2f s per path, interleaved",
                streamConns, streamConns == 1 ? "" : "s", windows, windowSeconds));
        System.out.println("   (TTFT = request sent → first SSE data line with non-empty delta content received)");
        Series d = new Series();
        Series g = new Series();
        int index = 0;
        for (boolean isDirect : order) {
            Target t = isDirect ? direct : gateway;
            Window w = runWindow(t, emulatorPid, true, streamConns, windowSeconds);
            (isDirect ? d : g).add(w);
            System.out.println(windowLine(++index, t, w, hz, true));
        }
        report("ttft_c" + streamConns, d, g, hz, results, true);
        results.flush();
    }

    private static void report(String key, Series d, Series g, long hz, Results results, boolean stream) {
        long[] dv = Series.merged(d.values);
        long[] gv = Series.merged(g.values);
        String what = stream ? "TTFT" : "latency";
        for (Object[] row : new Object[][] {{"direct", d, dv}, {"gateway", g, gv}}) {
            Series s = (Series) row[1];
            long[] v = (long[]) row[2];
            String name = (String) row[0];
            String cpu = "";
            if (s.ticksKnown && s.n > 0) {
                cpu = fmt("  cpu/req %s %4.0f µs", name.equals("gateway") ? "gw" : "emu", s.targetTicks * 1e6 / hz / s.n);
                if (name.equals("gateway") && s.emulatorTicksKnown) cpu += fmt(" + emu %4.0f µs", s.emulatorTicks * 1e6 / hz / s.n);
            }
            System.out.println(fmt("  %-8s n=%8d  %8.0f req/s  %s p50=%7d  p90=%7d  p99=%7d  p99.9=%7d  max=%7d µs  errors=%d%s",
                    name + ":", s.n, s.rps(), what, micros(percentile(v, 50)), micros(percentile(v, 90)),
                    micros(percentile(v, 99)), micros(percentile(v, 99.9)), micros(percentile(v, 100)), s.errors, cpu));
            if (!s.errorSamples.isEmpty()) System.out.println("            error samples: " + s.errorSamples);
            results.put(key + "_" + name + "_n", s.n);
            results.put(key + "_" + name + "_errors", s.errors);
            results.put(key + "_" + name + "_rps", Math.round(s.rps()));
            results.put(key + "_" + name + "_p50_us", micros(percentile(v, 50)));
            results.put(key + "_" + name + "_p99_us", micros(percentile(v, 99)));
            if (s.ticksKnown && s.n > 0) results.put(key + "_" + name + "_cpu_us", Math.round(s.targetTicks * 1e6 / hz / s.n));
            if (name.equals("gateway") && s.elapsedNanos > 0) {
                double share = s.busiestTicks * 1e11 / hz / s.elapsedNanos;
                double total = s.ticksKnown ? s.targetTicks * 1e11 / hz / s.elapsedNanos : -1;
                System.out.println(fmt("            gateway CPU: %.0f %% of a core in all, %.0f %% on its busiest thread (%s)", total,
                        share, s.busiestThread));
                results.put(key + "_gateway_cpu_pct", Math.round(total));
                results.put(key + "_gateway_busiest_pct", Math.round(share));
            }
        }
        long p50 = micros(percentile(gv, 50)) - micros(percentile(dv, 50));
        long p99 = micros(percentile(gv, 99)) - micros(percentile(dv, 99));
        System.out.println(fmt("  %-8s %s p50 %+d µs, p99 %+d µs; throughput %+.1f %%", "added:", what, p50, p99,
                d.rps() == 0 ? 0 : (g.rps() / d.rps() - 1) * 100));
        results.put(key + "_added_p50_us", p50);
        results.put(key + "_added_p99_us", p99);
        if (stream) {
            long[] dt = Series.merged(d.totals);
            long[] gt = Series.merged(g.totals);
            System.out.println(fmt("  whole stream (request → terminal chunk): direct p50=%d p99=%d µs, gateway p50=%d p99=%d µs",
                    micros(percentile(dt, 50)), micros(percentile(dt, 99)), micros(percentile(gt, 50)), micros(percentile(gt, 99))));
            results.put(key + "_direct_total_p50_us", micros(percentile(dt, 50)));
            results.put(key + "_gateway_total_p50_us", micros(percentile(gt, 50)));
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // soak: many concurrent slow streams through the gateway, one selector thread

    private static final byte[] DONE = "data: [DONE]".getBytes(StandardCharsets.ISO_8859_1);
    private static final byte[] ERROR_EVENT = "data: {\"error\"".getBytes(StandardCharsets.ISO_8859_1);
    private static final byte[] CONTENT_START = "\"content\":\"".getBytes(StandardCharsets.ISO_8859_1);
    private static final byte[] LAST_CHUNK = "\r\n0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
    private static final byte[] HEADER_END = "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);

    private static final class Stream {
        SocketChannel channel;
        ByteBuffer request;
        byte[] data = new byte[4096];
        int len;
        int headerEnd = -1;
        int status;
        int scanFrom;
        long startNanos;
        long firstTokenNanos;
        long endNanos;
        boolean sawDone;
        boolean finished;
        boolean open;       // headers in, not finished
    }

    private static int indexOf(byte[] hay, int from, int to, byte[] needle) {
        outer:
        for (int i = Math.max(0, from); i <= to - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }

    private static void soak(Map<String, String> o) throws Exception {
        InetSocketAddress addr = address(required(o, "target"));
        String model = required(o, "model");
        int count = integer(o, "streams", 1000);
        double timeout = decimal(o, "timeout-s", 120);
        long pid = integer(o, "pid", 0);
        String key = o.getOrDefault("key", "soak");
        String what = o.getOrDefault("label", "target");
        boolean timeline = Boolean.parseBoolean(o.getOrDefault("timeline", "true"));
        boolean quiet = Boolean.parseBoolean(o.getOrDefault("quiet", "false"));
        Results results = new Results(o.get("results"));
        String body = "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}],\"stream\":true}";
        byte[] request = httpPost(addr, "/v1/chat/completions", body, "text/event-stream", true);

        // idle figures: a few samples over one second
        long idleRss = 0;
        long idleThreads = 0;
        if (pid > 0) {
            for (int i = 0; i < 5; i++) {
                long[] s = rssAndThreads(pid);
                idleRss = Math.max(idleRss, s[0]);
                idleThreads = Math.max(idleThreads, s[1]);
                Thread.sleep(200);
            }
            if (!quiet) {
                System.out.println(fmt("  %s idle before: RSS %.1f MiB, %d threads", what, idleRss / 1024.0, idleThreads));
            }
        }

        AtomicInteger openNow = new AtomicInteger();
        AtomicInteger finishedNow = new AtomicInteger();
        long[] peak = {0, 0, 0};   // rss kB, threads, open streams
        final boolean[] stop = {false};
        long soakStart = System.nanoTime();
        Thread sampler = new Thread(() -> {
            long nextPrint = System.nanoTime();
            for (int i = 0; i < 100_000; i++) {
                long[] s = pid > 0 ? rssAndThreads(pid) : new long[] {0, 0};
                int open = openNow.get();
                synchronized (peak) {
                    if (stop[0]) return;
                    peak[0] = Math.max(peak[0], s[0]);
                    peak[1] = Math.max(peak[1], s[1]);
                    peak[2] = Math.max(peak[2], open);
                }
                long now = System.nanoTime();
                if (timeline && !quiet && now >= nextPrint) {
                    System.out.println(fmt("    t=%5.1f s  streams open=%5d finished=%5d%s", (now - soakStart) / 1e9, open,
                            finishedNow.get(), pid > 0 ? fmt("   %s RSS %7.1f MiB  threads %4d", what, s[0] / 1024.0, s[1]) : ""));
                    nextPrint = now + 500_000_000L;
                }
                try {
                    Thread.sleep(pid > 0 ? 50 : 10);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "soak-sampler");
        sampler.setDaemon(true);
        sampler.start();

        List<Stream> streams = new ArrayList<>(count);
        Map<String, Integer> errors = new LinkedHashMap<>();
        int completed = 0;
        int failed = 0;
        ByteBuffer readBuffer = ByteBuffer.allocateDirect(1 << 16);
        byte[] chunk = new byte[1 << 16];
        try (Selector selector = Selector.open()) {
            for (int i = 0; i < count; i++) {
                Stream s = new Stream();
                streams.add(s);
                s.request = ByteBuffer.wrap(request);
                s.startNanos = System.nanoTime();
                try {
                    s.channel = SocketChannel.open();
                    s.channel.configureBlocking(false);
                    s.channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    if (s.channel.connect(addr)) {
                        s.channel.register(selector, SelectionKey.OP_WRITE, s);
                    } else {
                        s.channel.register(selector, SelectionKey.OP_CONNECT, s);
                    }
                } catch (IOException e) {
                    failed += fail(s, "connect: " + e.getMessage(), errors, openNow, finishedNow);
                }
            }
            long deadline = soakStart + (long) (timeout * 1e9);
            int done = failed;
            for (int loops = 0; done < count && System.nanoTime() < deadline && loops < 10_000_000; loops++) {
                selector.select(100);
                Iterator<SelectionKey> it = selector.selectedKeys().iterator();
                while (it.hasNext()) {
                    SelectionKey sk = it.next();
                    it.remove();
                    Stream s = (Stream) sk.attachment();
                    if (s.finished) continue;
                    try {
                        if (sk.isConnectable()) {
                            s.channel.finishConnect();
                            sk.interestOps(SelectionKey.OP_WRITE);
                        }
                        if (sk.isValid() && sk.isWritable()) {
                            s.channel.write(s.request);
                            if (!s.request.hasRemaining()) sk.interestOps(SelectionKey.OP_READ);
                        }
                        if (sk.isValid() && sk.isReadable()) {
                            readBuffer.clear();
                            int r = s.channel.read(readBuffer);
                            if (r < 0) {
                                if (s.sawDone) {
                                    completed += complete(s, openNow, finishedNow);
                                } else {
                                    failed += fail(s, s.headerEnd < 0 ? "closed before a response"
                                            : "connection closed before [DONE]", errors, openNow, finishedNow);
                                }
                            } else if (r > 0) {
                                readBuffer.flip();
                                readBuffer.get(chunk, 0, r);
                                if (s.len + r > s.data.length) {
                                    if (s.len + r > (1 << 20)) {
                                        failed += fail(s, "response larger than 1 MiB", errors, openNow, finishedNow);
                                        continue;
                                    }
                                    s.data = Arrays.copyOf(s.data, Math.max(s.data.length * 2, s.len + r));
                                }
                                System.arraycopy(chunk, 0, s.data, s.len, r);
                                s.len += r;
                                int outcome = scan(s, errors, openNow, finishedNow);
                                if (outcome > 0) completed++;
                                else if (outcome < 0) failed++;
                            }
                        }
                    } catch (IOException e) {
                        failed += fail(s, e.getClass().getSimpleName() + ": " + e.getMessage(), errors, openNow, finishedNow);
                    }
                }
                done = completed + failed;
            }
            for (Stream s : streams) {
                if (!s.finished && s.channel != null) s.channel.close();
            }
        }
        long soakEnd = System.nanoTime();
        synchronized (peak) {
            stop[0] = true;
        }
        sampler.interrupt();
        sampler.join(2000);
        int unfinished = count - completed - failed;

        long[] ttft = streams.stream().filter(s -> s.finished && s.sawDone && s.firstTokenNanos > 0)
                .mapToLong(s -> s.firstTokenNanos - s.startNanos).sorted().toArray();
        long[] total = streams.stream().filter(s -> s.finished && s.sawDone)
                .mapToLong(s -> s.endNanos - s.startNanos).sorted().toArray();

        if (quiet) {
            System.out.println(fmt("  (%s: %d streams, %d completed, %d errors, whole stream p50=%d ms)", what, count, completed,
                    failed, percentile(total, 50) / 1_000_000));
            return;
        }
        System.out.println(fmt("  streams: %d opened, %d completed ([DONE] seen), %d errors, %d unfinished at the %.0f s limit; "
                + "wall time %.1f s", count, completed, failed, unfinished, timeout, (soakEnd - soakStart) / 1e9));
        errors.forEach((k, v) -> System.out.println(fmt("    error: %5d × %s", v, k)));
        System.out.println(fmt("  most streams open at once (response headers in, not yet ended): %d", peak[2]));
        System.out.println(fmt("  per stream: TTFT p50=%d ms p99=%d ms; whole stream p50=%d ms p99=%d ms max=%d ms",
                percentile(ttft, 50) / 1_000_000, percentile(ttft, 99) / 1_000_000, percentile(total, 50) / 1_000_000,
                percentile(total, 99) / 1_000_000, percentile(total, 100) / 1_000_000));
        results.put(key + "_streams", count);
        results.put(key + "_completed", completed);
        results.put(key + "_errors", failed);
        results.put(key + "_unfinished", unfinished);
        results.put(key + "_peak_open", peak[2]);
        results.put(key + "_ttft_p50_ms", percentile(ttft, 50) / 1_000_000);
        results.put(key + "_ttft_p99_ms", percentile(ttft, 99) / 1_000_000);
        results.put(key + "_total_p50_ms", percentile(total, 50) / 1_000_000);
        results.put(key + "_total_p99_ms", percentile(total, 99) / 1_000_000);
        if (pid > 0) {
            Thread.sleep(2000);
            long[] after = rssAndThreads(pid);
            double perStream = peak[2] == 0 ? 0 : (peak[0] - idleRss) / (double) peak[2];
            System.out.println(fmt("  %s RSS: idle %.1f MiB, peak %.1f MiB (%+.1f KiB per concurrent stream), 2 s after %.1f MiB",
                    what, idleRss / 1024.0, peak[0] / 1024.0, perStream, after[0] / 1024.0));
            System.out.println(fmt("  %s threads: idle %d, peak %d, 2 s after %d", what, idleThreads, peak[1], after[1]));
            results.put(key + "_idle_rss_mib", fmt("%.1f", idleRss / 1024.0));
            results.put(key + "_peak_rss_mib", fmt("%.1f", peak[0] / 1024.0));
            results.put(key + "_after_rss_mib", fmt("%.1f", after[0] / 1024.0));
            results.put(key + "_kib_per_stream", fmt("%.1f", perStream));
            results.put(key + "_idle_threads", idleThreads);
            results.put(key + "_peak_threads", peak[1]);
            results.put(key + "_after_threads", after[1]);
        }
        results.flush();
    }

    /** Looks at what arrived: status, first token, [DONE], error events, end of the chunked body. */
    private static int scan(Stream s, Map<String, Integer> errors, AtomicInteger openNow, AtomicInteger finishedNow)
            throws IOException {
        if (s.headerEnd < 0) {
            int h = indexOf(s.data, 0, s.len, HEADER_END);
            if (h < 0) return 0;
            s.headerEnd = h + 4;
            String statusLine = new String(s.data, 0, Math.min(s.len, 12), StandardCharsets.ISO_8859_1);
            s.status = statusLine.startsWith("HTTP/1.") && statusLine.length() >= 12
                    ? Integer.parseInt(statusLine.substring(9, 12)) : -1;
            if (s.status != 200) return -fail(s, "HTTP " + s.status, errors, openNow, finishedNow);
            s.open = true;
            openNow.incrementAndGet();
            s.scanFrom = s.headerEnd;
        }
        int from = Math.max(s.headerEnd, s.scanFrom - 16);
        if (s.firstTokenNanos == 0) {
            for (int at = from; ; ) {
                int i = indexOf(s.data, at, s.len, CONTENT_START);
                if (i < 0 || i + CONTENT_START.length >= s.len) break;
                if (s.data[i + CONTENT_START.length] != '"') {
                    s.firstTokenNanos = System.nanoTime();
                    break;
                }
                at = i + 1;
            }
        }
        if (indexOf(s.data, from, s.len, ERROR_EVENT) >= 0) return -fail(s, "error event in the stream", errors, openNow, finishedNow);
        if (!s.sawDone && indexOf(s.data, from, s.len, DONE) >= 0) s.sawDone = true;
        s.scanFrom = s.len;
        if (s.sawDone && indexOf(s.data, s.len - LAST_CHUNK.length, s.len, LAST_CHUNK) >= 0) {
            return complete(s, openNow, finishedNow);
        }
        return 0;
    }

    private static int complete(Stream s, AtomicInteger openNow, AtomicInteger finishedNow) throws IOException {
        s.finished = true;
        s.endNanos = System.nanoTime();
        if (s.open) openNow.decrementAndGet();
        s.open = false;
        finishedNow.incrementAndGet();
        s.channel.close();
        return 1;
    }

    private static int fail(Stream s, String why, Map<String, Integer> errors, AtomicInteger openNow, AtomicInteger finishedNow) {
        s.finished = true;
        s.endNanos = System.nanoTime();
        if (s.open) openNow.decrementAndGet();
        s.open = false;
        finishedNow.incrementAndGet();
        errors.merge(why, 1, Integer::sum);
        try {
            if (s.channel != null) s.channel.close();
        } catch (IOException ignored) {
            // closing
        }
        return 1;
    }
}
