package replyrate.peers.flink;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.functions.sink.RichSinkFunction;

/**
 * Writes each subtask's records to OUTDIR/records-N.jsonl. A bounded benchmark run needs no
 * transactional file sink (which would commit only on checkpoints); run.sh joins the files.
 */
public class RecordsSink extends RichSinkFunction<String> {
    private static final long serialVersionUID = 1L;
    private final String dir;
    private transient BufferedWriter w;

    public RecordsSink(String dir) {
        this.dir = dir;
    }

    @Override
    public void open(Configuration parameters) throws IOException {
        int i = getRuntimeContext().getIndexOfThisSubtask();
        w = Files.newBufferedWriter(Paths.get(dir, "records-" + i + ".jsonl"), StandardCharsets.UTF_8);
    }

    @Override
    public void invoke(String line, Context ctx) throws IOException {
        w.write(line);
        w.write('\n');
    }

    @Override
    public void close() throws IOException {
        if (w != null) {
            w.close();
        }
    }
}
