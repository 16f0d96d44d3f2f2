package dev.caravan.api;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.caravan.exchange.RequestIds;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * Bounds one HTTP/1.1 connection in time, from inside its Netty pipeline (just before Vert.x's own handler): its
 * first request head must be complete within the header timeout of opening, each body within the body timeout of
 * its head, and the next request head within the idle timeout of the last reply. While a request is being
 * answered (waiting in a lane, streaming) no deadline runs. One timer per connection at most, on its event loop.
 * <p>
 * Vert.x's idleTimeout closes on inactivity in either direction, so it would also cut a request that waits quietly
 * for a GPU slot; and a connection that dribbles a byte a second is never idle. Hence these phase deadlines.
 * <p>
 * Beyond the connection cap a connection is let in only to be told 503 (with retry-after) on its first request
 * and closed.
 */
final class ConnectionGuard extends ChannelDuplexHandler {

    private static final String NAME = "caravan-connection-guard";
    private static final String REQUEST_ID = "x-request-id";

    private final EdgeSettings settings;
    private final boolean refused;
    private ScheduledFuture<?> timer;
    private long timerAt;
    private long deadline;
    private boolean bodyPhase;
    private int unanswered;
    private boolean bodyOpen;
    private boolean replyStarted;

    private ConnectionGuard(EdgeSettings settings, boolean refused) {
        this.settings = settings;
        this.refused = refused;
    }

    /** Counts the connection in {@code open} and guards it; from the server's connection handler. */
    static void attach(HttpConnection connection, EdgeSettings settings, AtomicInteger open) {
        if (!(connection instanceof ConnectionBase base)) {
            return; // not HTTP/1.x: the servers are opened without h2c, so this does not happen
        }
        Channel channel = base.channel();
        boolean refused = open.incrementAndGet() > settings.maxConnections();
        channel.closeFuture().addListener(f -> open.decrementAndGet());
        channel.pipeline().addBefore("handler", NAME, new ConnectionGuard(settings, refused));
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        arm(ctx, refused ? Math.min(settings.headerTimeoutMs(), 1000) : settings.headerTimeoutMs(), false);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stop();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (refused) {
            boolean head = msg instanceof HttpRequest;
            ReferenceCountUtil.release(msg);
            if (head) {
                cancel();
                reply(ctx, OpenAiError.overloaded("The gateway has too many open connections; try again", 1));
            }
            return;
        }
        if (msg instanceof HttpRequest) {
            cancel();
            unanswered++;
            replyStarted = false;
            if (!(msg instanceof LastHttpContent)) {
                bodyOpen = true;
                arm(ctx, settings.bodyTimeoutMs(), true);
            }
        }
        if (bodyOpen && msg instanceof HttpContent content && content.decoderResult().isFailure()) {
            // bad chunked framing: Vert.x would only drop the connection; the client learns why
            ReferenceCountUtil.release(msg);
            cancel();
            if (replyStarted) {
                ctx.close();
            } else {
                reply(ctx, OpenAiError.invalidRequest(null, "The request body's chunked encoding is malformed"));
            }
            return;
        }
        if (msg instanceof LastHttpContent && bodyOpen) {
            bodyOpen = false;
            if (unanswered == 0) {
                arm(ctx, settings.idleTimeoutMs(), false); // answered before its body ended (a refusal)
            } else {
                cancel();
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse response) {
            if (response.status().code() < 200) {
                ctx.write(msg, promise); // 100 Continue: an interim answer, the request is still open
                return;
            }
            replyStarted = true;
        }
        if (msg instanceof LastHttpContent && unanswered > 0 && --unanswered == 0 && !bodyOpen) {
            arm(ctx, settings.idleTimeoutMs(), false);
        }
        ctx.write(msg, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        stop();
        ctx.fireChannelInactive();
    }

    /**
     * Sets the phase's deadline. The timer is not rescheduled per request (a keep-alive connection changes phase
     * several times per request): one timer runs at most, and when it fires before the current deadline it is
     * set again for the rest. So a phase change is a clock read and two field writes.
     */
    private void arm(ChannelHandlerContext ctx, long millis, boolean body) {
        if (millis <= 0) {
            deadline = 0;
            return;
        }
        deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        bodyPhase = body;
        if (timer != null && timerAt > deadline) {
            timer.cancel(false);
            timer = null;
        }
        if (timer == null) {
            schedule(ctx, deadline);
        }
    }

    private void schedule(ChannelHandlerContext ctx, long at) {
        timerAt = at;
        timer = ctx.executor().schedule(() -> fired(ctx), Math.max(0, at - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    private void fired(ChannelHandlerContext ctx) {
        timer = null;
        if (deadline == 0) {
            return; // the phase ended; the next one schedules again
        }
        if (deadline - System.nanoTime() > 0) {
            schedule(ctx, deadline); // a later phase began since this was set
        } else {
            deadline = 0;
            expired(ctx, bodyPhase);
        }
    }

    /** The current phase ended in time. */
    private void cancel() {
        deadline = 0;
    }

    private void stop() {
        deadline = 0;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void expired(ChannelHandlerContext ctx, boolean body) {
        if (body && !replyStarted) {
            reply(ctx, new OpenAiError(408, "invalid_request_error", "request_timeout", null,
                    "The request body did not arrive in time"));
        } else {
            ctx.close(); // a silent or dribbling head, or an idle keep-alive: nothing to answer
        }
    }

    /** Writes an OpenAI error straight to the socket (past Vert.x) and closes the connection. */
    private static void reply(ChannelHandlerContext ctx, OpenAiError error) {
        ByteBuf body = Unpooled.copiedBuffer(Json.buffer(error.toJson()).getBytes());
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(error.status()), body);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                .set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                .set(HttpHeaderNames.CONNECTION, "close")
                .set(REQUEST_ID, RequestIds.generate()); // every reply carries one, these too
        if (error.retryAfterSeconds() > 0) {
            response.headers().set(HttpHeaderNames.RETRY_AFTER, error.retryAfterSeconds());
        }
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
}
