package dev.caravan.backend.local;

import java.io.IOException;
import java.io.InputStream;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

/**
 * A sentence embedding from a BERT-style ONNX model: token ids in, the mean of the last hidden states over all
 * tokens ([CLS] and [SEP] included), scaled to unit length. Thread-safe (ONNX runtime sessions are).
 */
final class OnnxSentenceEncoder implements AutoCloseable {

    /** One text's embedding and the word pieces it was made of (special tokens not counted). */
    record Embedded(float[] vector, int tokens) {
    }

    private final OrtEnvironment environment;
    private final OrtSession session;
    private final Set<String> inputs;
    private final WordPieceTokenizer tokenizer;

    private OnnxSentenceEncoder(OrtEnvironment environment, OrtSession session, WordPieceTokenizer tokenizer)
            throws OrtException {
        this.environment = environment;
        this.session = session;
        this.inputs = session.getInputNames();
        this.tokenizer = tokenizer;
    }

    /** Loads the model and its tokenizer.json from the classpath. Blocking (about a second). */
    static OnnxSentenceEncoder fromClasspath(String model, String tokenizerJson) {
        ClassLoader loader = OnnxSentenceEncoder.class.getClassLoader();
        try (InputStream modelBytes = loader.getResourceAsStream(model);
             InputStream tokenizerBytes = loader.getResourceAsStream(tokenizerJson)) {
            if (modelBytes == null || tokenizerBytes == null) {
                throw new IllegalStateException("The embedding model " + model + " or " + tokenizerJson
                        + " is not on the classpath");
            }
            OrtEnvironment environment = OrtEnvironment.getEnvironment();
            return new OnnxSentenceEncoder(environment, environment.createSession(modelBytes.readAllBytes()),
                    WordPieceTokenizer.load(tokenizerBytes));
        } catch (IOException | OrtException e) {
            throw new IllegalStateException("The embedding model " + model + " could not be loaded", e);
        }
    }

    Embedded embed(String text) {
        WordPieceTokenizer.Encoding encoding = tokenizer.encode(text);
        long[] ids = encoding.ids();
        long[] shape = {1, ids.length};
        long[] ones = new long[ids.length];
        java.util.Arrays.fill(ones, 1);
        try (OnnxTensor inputIds = OnnxTensor.createTensor(environment, LongBuffer.wrap(ids), shape);
             OnnxTensor attentionMask = OnnxTensor.createTensor(environment, LongBuffer.wrap(ones), shape);
             OnnxTensor tokenTypes = OnnxTensor.createTensor(environment, LongBuffer.wrap(new long[ids.length]),
                     shape)) {
            Map<String, OnnxTensor> feed = new HashMap<>();
            feed.put("input_ids", inputIds);
            feed.put("attention_mask", attentionMask);
            if (inputs.contains("token_type_ids")) {
                feed.put("token_type_ids", tokenTypes);
            }
            try (OrtSession.Result result = session.run(feed)) {
                float[][] states = ((float[][][]) result.get(0).getValue())[0];
                return new Embedded(unitLength(mean(states)), encoding.pieces());
            }
        } catch (OrtException e) {
            throw new IllegalStateException("The embedding model failed: " + e.getMessage(), e);
        }
    }

    private static float[] mean(float[][] vectors) {
        float[] sum = new float[vectors[0].length];
        for (float[] vector : vectors) {
            for (int j = 0; j < sum.length; j++) {
                sum[j] += vector[j];
            }
        }
        for (int j = 0; j < sum.length; j++) {
            sum[j] /= vectors.length;
        }
        return sum;
    }

    private static float[] unitLength(float[] vector) {
        float squares = 0;
        for (float v : vector) {
            squares += v * v;
        }
        float norm = (float) Math.sqrt(squares);
        for (int i = 0; i < vector.length; i++) {
            vector[i] /= norm;
        }
        return vector;
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
