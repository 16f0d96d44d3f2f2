package dev.caravan.observe;

import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.impl.Log4jLogEvent;
import org.apache.logging.log4j.message.SimpleMessage;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A log line as the gateway's console appender writes it starts with an ISO-8601 timestamp that has a zone. */
class LogFormatTest {

    @Test
    void aLogLineStartsWithAnIsoTimestampWithZone() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        Appender console = context.getConfiguration().getAppender("text");
        assertNotNull(console, "the console appender of src/main/resources/log4j2.properties");
        long millis = 1_790_000_000_123L;
        String line = new String(console.getLayout().toByteArray(Log4jLogEvent.newBuilder()
                .setLoggerName("dev.caravan.observe.LogFormatTest").setLevel(Level.INFO).setTimeMillis(millis)
                .setMessage(new SimpleMessage("a line")).build()), java.nio.charset.StandardCharsets.UTF_8);
        String stamp = line.substring(0, line.indexOf(' '));
        OffsetDateTime parsed = OffsetDateTime.parse(stamp, DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        assertEquals(millis, parsed.toInstant().toEpochMilli(), line);
        assertTrue(line.contains(" INFO  [") && line.contains("] LogFormatTest - a line"), line);
    }
}
