/** Test helper: translates a v2.0 record into the older (V5) firmware format. */
type Row = Record<string, unknown>;

const PERSON_TYPES = ['employee', 'visitor', 'blacklist', 'stranger', 'vip'];

/** The same event in the older (V5) firmware format, as DESIGN.md maps the names. */
export function toLegacy(v2: Row): Row {
  const device = v2.media_device_info as Row;
  const attr = { ...(v2.recognize_face_attr as Row) };
  const feature = Buffer.from(attr.feature_base64_str as string, 'base64');
  delete attr.feature_base64_str;
  attr.feature = Array.from({ length: feature.length / 4 }, (_, i) => feature.readFloatLE(i * 4));
  const legacy: Row = {
    identity_id: v2.identity_id,
    identity_name: v2.identity_name,
    timestamp: v2.timestamp,
    score: v2.score,
    want_action: v2.post_action,
    in_timestamp: v2.in_timestamp,
    out_timestamp: v2.out_timestamp,
    dev_sno: v2.mq_license_key,
    ep_info: {
      ep_id: device.media_device_id,
      ep_type: device.media_device_type,
      ep_ip: device.media_device_ip,
      ep_name: device.media_device_name,
    },
    reg_pic: v2.reg_image,
    spot_pic: v2.spot_image,
    ir_pic: v2.ir_image,
    recognize_face: v2.recognize_face_image,
    recognize_face_attr: attr,
  };
  if (v2.user_type !== 'employee') legacy.person_type = PERSON_TYPES.indexOf(v2.user_type as string) + 1;
  return legacy;
}
