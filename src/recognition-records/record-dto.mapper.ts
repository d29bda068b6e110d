import { IMAGE_ROLES } from './recognition-record.types';
import { RecordDetailDto, RecordSummaryDto } from './dto/record.dto';
import type { RecordDetailView } from './records-query.service';

export function toRecordDetailDto(v: RecordDetailView): RecordDetailDto {
  return {
    ...RecordSummaryDto.from(v),
    box: v.box,
    mediaDevice: v.mediaDevice,
    enteredAt: v.enteredAt,
    leftAt: v.leftAt,
    apiVersion: v.apiVersion,
    attributes: v.attributes as RecordDetailDto['attributes'],
    landmarks: v.landmarks,
    faceBox: v.faceBox,
    images: IMAGE_ROLES.filter((role) => v.images[role]).map((role) => ({
      role,
      sha256: v.images[role] as string,
      contentType: v.imageMeta[role]?.contentType ?? null,
      byteSize: v.imageMeta[role]?.byteSize ?? null,
      url: `/records/${v.id}/images/${role}`,
    })),
    defects: v.defects,
    extra: v.extra,
    sourceAddress: v.sourceAddress,
    receivedAt: v.receivedAt,
  };
}
