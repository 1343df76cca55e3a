-- 025_media.sql — media the model can see and hear.
--
-- messages.transcript: the text of a voice note or audio message, written once by the worker after a
-- transcription (OpenAI-compatible /audio/transcriptions); a retried job reads it instead of transcribing
-- again, the prompt uses it as the message's text, and the admin API's message list shows it. NULL = not
-- transcribed (no audio, no transcription provider, or the transcription failed).
ALTER TABLE messages ADD COLUMN IF NOT EXISTS transcript text
  CHECK (transcript IS NULL OR length(transcript) <= 16000);
